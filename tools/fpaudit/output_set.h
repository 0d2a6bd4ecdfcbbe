// The report files of one run, written into a folder as a set: never a mix of two runs.
//
// A run writes its files into a fresh staging folder beside the target (".NAME.fpaudit-new-XXXXXX"),
// then swaps it in: the target is renamed aside, the staging folder renamed to the target, and
// the old set deleted. A manifest, NAME/.fpaudit-set, lists what fpaudit wrote, so the next run
// knows which files it may replace:
//   - files of the previous set are deleted (kept only when the new files were rendered from the
//     same audit, e.g. `fpaudit report run/audit.json --format html --out run`);
//   - any other file in the folder (a user's notes) is moved into the new folder untouched;
//   - a non-empty folder without a manifest is refused, unless it holds only files named as
//     fpaudit names its reports (a folder written before manifests existed);
//   - a file of the new set's name that fpaudit did not write is refused, not replaced.
// Everything that can be checked is checked in the constructor, before any work.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace fpaudit::cli {

class OutputSet {
 public:
  /// Checks `folder` for a set of files named `names` and creates the staging folder (and any
  /// missing parent folders). Throws std::runtime_error "FOLDER: ..." when the set cannot go there.
  OutputSet(const std::string& folder, std::vector<std::string> names);
  /// Removes the staging folder (and parents it created) unless committed.
  ~OutputSet();
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  /// Where to write the files before commit().
  const std::filesystem::path& staging() const { return staging_; }

  /// Replaces the folder's previous set by the staged files. `run_id` names the audit the files
  /// were rendered from (run_id_of its JSON text).
  void commit(const std::string& run_id);

  /// "run/: audit.json, layers.csv": the files this run wrote there.
  std::string summary() const;

 private:
  std::string display_;               ///< the folder as the user spelled it
  std::filesystem::path folder_;      ///< without a trailing separator
  std::vector<std::string> names_;    ///< the new set
  std::vector<std::string> old_set_;  ///< files of the previous set found in the folder
  std::string old_run_;               ///< the previous set's run id ("" when unknown)
  std::filesystem::path staging_;
  std::filesystem::path created_parent_;  ///< the topmost parent folder this run created, if any
  bool committed_ = false;
};

/// An id of an audit JSON text (a hash of its bytes): equal texts, equal ids.
std::string run_id_of(const std::string& json_text);

/// Checks that `path` can be written as a file (its folder exists and takes a new file), by
/// creating and removing a temporary file there; throws "PATH: cannot write ...: reason".
void check_output_file(const std::string& path);

}  // namespace fpaudit::cli
