#include "fpaudit/output_set.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "fpaudit/report_output.h"

namespace fpaudit::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = ".fpaudit-set";
constexpr const char* kManifestHeader = "# fpaudit: the files of one run in this folder (the next run replaces them)";

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

/// Every file name a report format can write (a folder holding only these is fpaudit's).
std::vector<std::string> report_names() {
  std::vector<std::string> all;
  for (const char* f : {"json", "csv", "md", "tex", "html"})
    for (const std::string& n : report_file_names(f)) all.push_back(n);
  return all;
}

/// mkdtemp on `dir/.NAME.fpaudit-KIND-XXXXXX`; throws with errno's reason.
fs::path make_temp_folder(const fs::path& dir, const std::string& name, const char* kind, const std::string& display) {
  std::string templ = (dir / fmt::format(".{}.fpaudit-{}-XXXXXX", name, kind)).string();
  if (!mkdtemp(templ.data())) throw std::runtime_error(display + ": cannot create the output folder: " + std::strerror(errno));
  return templ;
}

void rename_or_throw(const fs::path& from, const fs::path& to, const std::string& display) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot move {} to {}: {}", display, from.string(), to.string(), ec.message()));
}

}  // namespace

OutputSet::OutputSet(const std::string& folder, std::vector<std::string> names) : display_(folder), names_(std::move(names)) {
  folder_ = fs::path(folder).lexically_normal();
  if (folder_.filename().empty()) folder_ = folder_.parent_path();  // "run/" → "run"
  if (folder_.empty() || folder_ == "." || folder_ == ".." || folder_ == folder_.root_path())
    throw std::runtime_error(display_ + ": give the output folder a name of its own (a run replaces its files)");
  std::error_code ec;
  const fs::file_status st = fs::status(folder_, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) throw std::runtime_error(display_ + ": exists and is not a folder");
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(folder_, ec)) entries.push_back(e.path().filename().string());
    if (ec) throw std::runtime_error(display_ + ": cannot read the output folder: " + ec.message());
    if (contains(entries, kManifest)) {
      std::ifstream in(folder_ / kManifest);
      std::string line;
      while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line.rfind("run ", 0) == 0) old_run_ = line.substr(4);
        else if (contains(entries, line)) old_set_.push_back(line);
      }
    } else {
      const std::vector<std::string> known = report_names();
      const bool fpaudit_only = std::all_of(entries.begin(), entries.end(), [&](const std::string& e) { return contains(known, e); });
      if (!fpaudit_only)
        throw std::runtime_error(display_ + ": not empty and not written by fpaudit (no " + kManifest +
                                 "); give a new or empty output folder");
      old_set_ = entries;
      // Its audit.json names the run, so renderings of that same audit join the set.
      if (contains(entries, "audit.json")) {
        std::ifstream in(folder_ / "audit.json", std::ios::binary);
        old_run_ = run_id_of(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
      }
    }
    for (const std::string& n : names_)
      if (contains(entries, n) && !contains(old_set_, n))
        throw std::runtime_error(display_ + "/" + n + ": not written by fpaudit; will not replace it");
  }
  fs::path parent = folder_.parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::exists(parent, ec)) {
    fs::path top = parent;
    while (!top.parent_path().empty() && top.parent_path() != top && !fs::exists(top.parent_path(), ec)) top = top.parent_path();
    fs::create_directories(parent, ec);
    if (ec) throw std::runtime_error(display_ + ": cannot create the output folder: " + ec.message());
    created_parent_ = top;
  }
  staging_ = make_temp_folder(parent, folder_.filename().string(), "new", display_);
}

OutputSet::~OutputSet() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);  // our own folder: only files this run wrote
  // Parents this run created hold nothing else: remove them, innermost first (only if empty).
  if (!created_parent_.empty())
    for (fs::path p = folder_.parent_path(); !p.empty(); p = p.parent_path()) {
      fs::remove(p, ec);
      if (ec || p == created_parent_) break;
    }
}

void OutputSet::commit(const std::string& run_id) {
  std::vector<std::string> written = names_;
  std::error_code ec;
  const bool replacing = fs::exists(folder_, ec);
  if (replacing) {
    // The previous set's files stay only when rendered from the same audit; anything else that
    // is not fpaudit's (a user's file) moves into the new folder as it is.
    const bool same_run = !old_run_.empty() && old_run_ == run_id;
    for (const auto& e : fs::directory_iterator(folder_)) {
      const std::string name = e.path().filename().string();
      if (name == kManifest || contains(names_, name)) continue;
      if (contains(old_set_, name) && !same_run) continue;
      rename_or_throw(e.path(), staging_ / name, display_);
      if (contains(old_set_, name)) written.push_back(name);
    }
  }
  std::string manifest = std::string(kManifestHeader) + "\nrun " + run_id + "\n";
  for (const std::string& n : written) manifest += n + "\n";
  write_file_atomic(staging_ / kManifest, manifest);

  const fs::path parent = staging_.parent_path();
  if (!replacing) {
    rename_or_throw(staging_, folder_, display_);
  } else {
    const fs::path old = make_temp_folder(parent, folder_.filename().string(), "old", display_);
    rename_or_throw(folder_, old, display_);  // onto the empty folder mkdtemp made
    try {
      rename_or_throw(staging_, folder_, display_);
    } catch (...) {
      fs::rename(old, folder_, ec);  // put the previous set back
      throw;
    }
    // What is left in `old` is the previous set's files, and its manifest.
    for (const std::string& n : old_set_) fs::remove(old / n, ec);
    fs::remove(old / kManifest, ec);
    fs::remove(old, ec);
  }
  committed_ = true;
}

std::string OutputSet::summary() const {
  std::string folder = display_;
  if (folder.empty() || folder.back() != '/') folder += '/';
  return fmt::format("{}: {}", folder, fmt::join(names_, ", "));
}

std::string run_id_of(const std::string& json_text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a: an identity, not a security measure
  for (const unsigned char c : json_text) h = (h ^ c) * 0x100000001b3ULL;
  return fmt::format("{:016x}", h);
}

void check_output_file(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw std::runtime_error(path + ": is a folder, not a file");
  std::string probe = (dir / ".fpaudit-probe-XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0) throw std::runtime_error(path + ": cannot write the output file: " + std::strerror(errno));
  close(fd);
  unlink(probe.c_str());
}

}  // namespace fpaudit::cli
