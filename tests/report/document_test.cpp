// Reading a saved audit: the fixtures read completely, and every kind of bad input is refused
// with one message that names the file and, for a malformed document, the JSON path.
#include <filesystem>

#include <doctest/doctest.h>

#include "golden.h"
#include "report/audit_document.h"

using namespace fpaudit;
using fpaudit::test::data_file;
using nlohmann::json;

namespace {

/// The message audit_document_from_json gives for `j` read as "run.json", or "" when it reads.
std::string refusal(const json& j) {
  try {
    audit_document_from_json(j, "run.json");
  } catch (const ReportError& e) {
    return e.what();
  }
  return "";
}

json mlp_json() { return json::parse(test::read_file(data_file("mlp_60.json"))); }

}  // namespace

TEST_CASE("the MLP fixture reads completely") {
  const AuditDocument doc = read_audit_document(data_file("mlp_60.json"));
  CHECK(doc.model_path == "data/mlp.onnx");
  CHECK(doc.samples == 60);
  REQUIRE(doc.chains.size() == 5);
  CHECK(doc.chains[1].name == "fp16");
  CHECK(doc.chains[1].unit_roundoff == 0.00048828125);  // 2^-11
  REQUIRE(doc.layers.size() == 6);
  CHECK(doc.layers[1].name == "/net/net.1/Gemm");
  CHECK(doc.layers[0].exact_op);
  CHECK(doc.records.size() == 60);
  CHECK(doc.has_labels());
  CHECK(doc.has_fp32());
  CHECK(doc.seconds == 1.25);
  CHECK(doc.classification[3].extra.empty());
}

TEST_CASE("null means what the schema says: NaN, or +Inf for headroom and drift") {
  const AuditDocument doc = read_audit_document(data_file("edge_6.json"));
  CHECK_FALSE(doc.has_labels());
  CHECK_FALSE(doc.has_fp32());
  CHECK(std::isnan(doc.classification[0].accuracy));       // no labels
  CHECK(std::isinf(doc.classification[0].delta_max));      // fp16 logits overflowed
  CHECK(std::isnan(doc.records[0].margin_fp32));           // no fp32 chain
  CHECK(doc.classification[0].first_nonfinite_layer == 0);
  // Fields this version does not know are kept, flattened, in document order (sorted keys).
  REQUIRE(doc.classification[0].extra.size() == 2);
  CHECK(doc.classification[0].extra[0].key == "certified_predicted");
  CHECK(doc.classification[0].extra[1].key == "certified_predicted_fraction");
}

TEST_CASE("an all-zero layer has infinite headroom") {
  json j = mlp_json();
  j["layers"][0]["chains"]["fp16"]["events"]["headroom_log2"] = nullptr;
  CHECK(std::isinf(audit_document_from_json(j, "run.json").layers[0].chains[1].events.headroom_log2));
}

TEST_CASE("nested unknown classification fields are flattened") {
  json j = mlp_json();
  j["classification"]["chains"]["bf16"]["predicted"] = {{"certified", 57}, {"bound", "a-priori"}};
  const AuditDocument doc = audit_document_from_json(j, "run.json");
  REQUIRE(doc.classification[3].extra.size() == 2);
  CHECK(doc.classification[3].extra[0].key == "predicted.bound");
  CHECK(doc.classification[3].extra[1].key == "predicted.certified");
}

TEST_CASE("bad documents are refused with the file and the problem") {
  CHECK(refusal(json::array()) == "run.json: not an fpaudit audit JSON (no \"schema\" field)");
  CHECK(refusal({{"schema", "other"}}) == "run.json: not an fpaudit audit JSON (schema \"other\", expected \"fpaudit.audit\")");
  CHECK(refusal({{"schema", "fpaudit.audit"}}) == "run.json: no integer \"schema_version\"");
  CHECK(refusal({{"schema", "fpaudit.audit"}, {"schema_version", 2}}) ==
        "run.json: schema version 2 is not supported (this fpaudit reads version 1)");

  json j = mlp_json();
  j["layers"][2]["chains"]["fp16"].erase("local");
  CHECK(refusal(j) == "run.json: /layers/2/chains/fp16: missing 'local'");
  j = mlp_json();
  j["samples"][3]["chains"]["bf16"]["certified"] = "yes";
  CHECK(refusal(j) == "run.json: /samples/3/chains/bf16/certified: expected true or false");
  j = mlp_json();
  j["layers"][1]["chains"]["fp32"]["bounds"]["local"]["violations"] = -1;
  CHECK(refusal(j) == "run.json: /layers/1/chains/fp32/bounds/local/violations: expected a count, not a negative number");
  j = mlp_json();
  j["chains"] = json::array();
  CHECK(refusal(j) == "run.json: /chains: no chains");
}

TEST_CASE("files that are not audits are refused by name") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "fpaudit-document-test";
  std::filesystem::create_directories(dir);
  auto message = [](const std::filesystem::path& p) {
    try {
      read_audit_document(p);
    } catch (const ReportError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string missing = (dir / "missing.json").string();
  CHECK(message(missing) == missing + ": cannot open (No such file or directory)");
  write_file_atomic(dir / "text.json", "fpaudit\n");
  CHECK(message(dir / "text.json") == (dir / "text.json").string() + ": not an fpaudit audit JSON (not valid JSON)");
  CHECK(message(dir) == dir.string() + ": is a folder, not an audit JSON");
  std::filesystem::remove_all(dir);
}
