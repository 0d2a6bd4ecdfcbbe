#include "report/audit_document.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "report/audit_report.h"  // kAuditJsonVersion: the version this code reads is the one it writes

namespace fpaudit {

namespace {

using nlohmann::json;

/// Reads fields of one document, naming the source file and the JSON path in every complaint.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    throw ReportError(fmt::format("{}: {}{}", source_, path.empty() ? "" : path + ": ", problem));
  }

  const json& field(const json& obj, const std::string& path, const char* key) const {
    if (!obj.is_object()) fail(path, "expected an object");
    const auto it = obj.find(key);
    if (it == obj.end()) fail(path, fmt::format("missing '{}'", key));
    return *it;
  }
  /// A number; null reads as `if_null` (NaN unless the schema says otherwise).
  double number(const json& obj, const std::string& path, const char* key, double if_null = NAN) const {
    const json& v = field(obj, path, key);
    if (v.is_null()) return if_null;
    if (!v.is_number()) fail(path + "/" + key, "expected a number");
    return v.get<double>();
  }
  long integer(const json& obj, const std::string& path, const char* key) const {
    const json& v = field(obj, path, key);
    if (!v.is_number_integer()) fail(path + "/" + key, "expected an integer");
    return v.get<long>();
  }
  /// An integer that may be null (a layer index, a label): null reads as -1.
  long index_or_none(const json& obj, const std::string& path, const char* key) const {
    const json& v = field(obj, path, key);
    return v.is_null() ? -1 : integer(obj, path, key);
  }
  std::uint64_t count(const json& obj, const std::string& path, const char* key) const {
    const long v = integer(obj, path, key);
    if (v < 0) fail(path + "/" + key, "expected a count, not a negative number");
    return static_cast<std::uint64_t>(v);
  }
  std::string text(const json& obj, const std::string& path, const char* key) const {
    const json& v = field(obj, path, key);
    if (!v.is_string()) fail(path + "/" + key, "expected a string");
    return v.get<std::string>();
  }
  bool boolean(const json& obj, const std::string& path, const char* key) const {
    const json& v = field(obj, path, key);
    if (!v.is_boolean()) fail(path + "/" + key, "expected true or false");
    return v.get<bool>();
  }
  const json& array(const json& obj, const std::string& path, const char* key) const {
    const json& v = field(obj, path, key);
    if (!v.is_array()) fail(path + "/" + key, "expected an array");
    return v;
  }
  std::vector<long> shape(const json& obj, const std::string& path, const char* key) const {
    std::vector<long> out;
    for (const json& d : array(obj, path, key)) {
      if (!d.is_number_integer()) fail(path + "/" + key, "expected integer dimensions");
      out.push_back(d.get<long>());
    }
    return out;
  }

  Quantiles quantiles(const json& obj, const std::string& path, const char* key) const {
    const json& q = field(obj, path, key);
    const std::string p = path + "/" + key;
    return {count(q, p, "count"), number(q, p, "max"), number(q, p, "mean"), number(q, p, "p50"), number(q, p, "p99")};
  }

  ErrorView error(const json& obj, const std::string& path, const char* key) const {
    const json& e = field(obj, path, key);
    const std::string p = path + "/" + key;
    ErrorView v;
    v.abs = quantiles(e, p, "abs");
    v.rel = quantiles(e, p, "rel");
    v.ulps = quantiles(e, p, "ulps");
    const json& nw = field(e, p, "normwise_rel");
    v.normwise_max = number(nw, p + "/normwise_rel", "max");
    v.normwise_mean = number(nw, p + "/normwise_rel", "mean");
    const json& cos = field(e, p, "cosine");
    v.cosine_min = number(cos, p + "/cosine", "min");
    v.cosine_mean = number(cos, p + "/cosine", "mean");
    const json& worst = field(e, p, "worst");
    v.worst_sample = integer(worst, p + "/worst", "sample");
    v.worst_element = integer(worst, p + "/worst", "element");
    return v;
  }

  BoundView bound(const json& obj, const std::string& path, const char* key) const {
    const json& b = field(obj, path, key);
    const std::string p = path + "/" + key;
    BoundView v;
    v.checked = count(b, p, "checked");
    v.unbounded = count(b, p, "unbounded");
    v.violations = count(b, p, "violations");
    const json& first = array(b, p, "first_violations");
    for (std::size_t i = 0; i < first.size(); ++i) {
      const std::string q = fmt::format("{}/first_violations/{}", p, i);
      v.first_violations.push_back({integer(first[i], q, "sample"), integer(first[i], q, "element"),
                                    number(first[i], q, "observed"), number(first[i], q, "bound")});
    }
    v.bound = quantiles(b, p, "bound");
    v.ratio = quantiles(b, p, "ratio");
    const json& prob = field(b, p, "probabilistic");
    const std::string q = p + "/probabilistic";
    v.prob_exceeded = count(prob, q, "exceeded");
    v.exceedance_rate = number(prob, q, "exceedance_rate");
    v.promised_failure_probability = number(prob, q, "promised_failure_probability");
    v.prob_ratio = quantiles(prob, q, "ratio");
    return v;
  }

  EventView events(const json& obj, const std::string& path) const {
    const json& e = field(obj, path, "events");
    const std::string p = path + "/events";
    EventView v;
    v.elements = count(e, p, "elements");
    v.overflow = count(e, p, "overflow");
    v.nan = count(e, p, "nan");
    v.flushed = count(e, p, "flushed");
    v.subnormal = count(e, p, "subnormal");
    v.max_magnitude = number(e, p, "max_magnitude");
    v.headroom_log2 = number(e, p, "headroom_log2", INFINITY);
    v.first_nonfinite_sample = integer(e, p, "first_nonfinite_sample");
    return v;
  }

 private:
  std::string source_;
};

/// Classification fields written by version 1 of the audit; anything else is an ExtraField.
const char* const kKnownClassificationFields[] = {
    "accuracy", "correct", "flips_vs_reference", "flips_vs_fp32", "certified_vs_reference", "certified_vs_fp32",
    "certified_fraction", "boundary", "ties", "lemma_violations", "nonfinite", "delta_reference", "certified", "margin"};

/// The certificates' counts (optional: audits before them lack the field).
CertifiedView certified_view(const Reader& rd, const json& k, const std::string& p) {
  CertifiedView v;
  if (!k.contains("certified")) return v;
  const json& c = rd.field(k, p, "certified");
  const std::string q = p + "/certified";
  v.present = true;
  v.observed = rd.integer(c, q, "observed");
  v.violations = rd.integer(c, q, "certificate_violations");
  v.probabilistic_failures = rd.integer(c, q, "probabilistic_certificate_failures");
  const json& post = rd.field(c, q, "a_posteriori");
  v.a_posteriori_det = rd.integer(post, q + "/a_posteriori", "deterministic");
  v.a_posteriori_prob = rd.integer(post, q + "/a_posteriori", "probabilistic");
  if (post.contains("failure_probability")) {  // audits since issue 17
    v.a_posteriori_failure_probability = rd.number(post, q + "/a_posteriori", "failure_probability");
    v.a_posteriori_failure_probability_run = rd.number(post, q + "/a_posteriori", "failure_probability_run");
  }
  const json& pri = rd.field(c, q, "a_priori");
  if (!pri.is_null()) {
    v.a_priori_present = true;
    v.a_priori_det = rd.integer(pri, q + "/a_priori", "deterministic");
    v.a_priori_prob = rd.integer(pri, q + "/a_priori", "probabilistic");
    v.failure_probability = rd.number(pri, q + "/a_priori", "failure_probability");
    if (pri.contains("failure_probability_run")) v.failure_probability_run = rd.number(pri, q + "/a_priori", "failure_probability_run");
    const json& all = rd.field(c, q, "a_priori_equals_fp32_and_exact");
    if (!all.is_null()) {  // null in audits without an fp32 chain
      v.a_priori_all_present = true;
      v.a_priori_all_det = rd.integer(all, q + "/a_priori_equals_fp32_and_exact", "deterministic");
      v.a_priori_all_prob = rd.integer(all, q + "/a_priori_equals_fp32_and_exact", "probabilistic");
    }
  }
  return v;
}

/// The margin certificates (optional: audits before them lack the field).
MarginView margin_view(const Reader& rd, const json& k, const std::string& p) {
  MarginView v;
  if (!k.contains("margin")) return v;
  const json& m = rd.field(k, p, "margin");
  const std::string q = p + "/margin";
  if (!m.value("available", false)) {
    v.unavailable = m.contains("reason") && m["reason"].is_string() ? m["reason"].get<std::string>() : "";
    return v;
  }
  v.present = true;
  const json& post = rd.field(m, q, "a_posteriori");
  v.a_posteriori_det = rd.integer(post, q + "/a_posteriori", "deterministic");
  v.a_posteriori_prob = rd.integer(post, q + "/a_posteriori", "probabilistic");
  const json& ratio = rd.field(post, q + "/a_posteriori", "ratio");
  auto median = [&](const char* key) {
    const json& r = rd.field(ratio, q + "/a_posteriori/ratio", key);
    return r.is_null() ? NAN : rd.number(r, q + "/a_posteriori/ratio/" + key, "p50");
  };
  v.ratio_det = median("deterministic");
  v.ratio_prob = median("probabilistic");
  const json& pri = rd.field(m, q, "a_priori");
  if (!pri.is_null()) {
    v.a_priori_present = true;
    v.a_priori_det = rd.integer(pri, q + "/a_priori", "deterministic");
    v.a_priori_prob = rd.integer(pri, q + "/a_priori", "probabilistic");
  }
  v.failure_probability = rd.number(m, q, "failure_probability", 0.0);
  v.violations = rd.integer(m, q, "violations");
  v.certificate_violations = rd.integer(m, q, "certificate_violations");
  return v;
}

void flatten_extra(const std::string& key, const json& v, std::vector<ExtraField>& out) {
  if (v.is_object()) {
    for (const auto& [k, sub] : v.items()) flatten_extra(key + "." + k, sub, out);
  } else if (!v.is_array()) {
    out.push_back({key, v});
  }
}

ChainClassificationView classification(const Reader& rd, const json& k, const std::string& p) {
  ChainClassificationView v;
  v.accuracy = rd.number(k, p, "accuracy");
  v.correct = rd.integer(k, p, "correct");
  v.flips_vs_reference = rd.integer(k, p, "flips_vs_reference");
  v.flips_vs_fp32 = rd.integer(k, p, "flips_vs_fp32");
  v.certified_vs_reference = rd.integer(k, p, "certified_vs_reference");
  v.certified_vs_fp32 = rd.integer(k, p, "certified_vs_fp32");
  v.certified_fraction = rd.number(k, p, "certified_fraction");
  v.boundary = rd.integer(k, p, "boundary");
  v.ties = rd.integer(k, p, "ties");
  v.lemma_violations = rd.integer(k, p, "lemma_violations");
  v.nonfinite = rd.integer(k, p, "nonfinite");
  const json& d = rd.field(k, p, "delta_reference");
  v.delta_max = rd.number(d, p + "/delta_reference", "max", INFINITY);
  v.delta_mean = rd.number(d, p + "/delta_reference", "mean", INFINITY);
  v.certified = certified_view(rd, k, p);
  v.margin = margin_view(rd, k, p);
  for (const auto& [key, value] : k.items()) {
    bool known = false;
    for (const char* f : kKnownClassificationFields) known = known || key == f;
    if (!known) flatten_extra(key, value, v.extra);
  }
  return v;
}

void check_schema(const Reader& rd, const json& j) {
  if (!j.is_object() || !j.contains("schema")) rd.fail("", "not an fpaudit audit JSON (no \"schema\" field)");
  if (!j["schema"].is_string() || j["schema"] != kAuditSchema)
    rd.fail("", fmt::format("not an fpaudit audit JSON (schema {}, expected \"{}\")", j["schema"].dump(), kAuditSchema));
  if (!j.contains("schema_version") || !j["schema_version"].is_number_integer())
    rd.fail("", "no integer \"schema_version\"");
  const long version = j["schema_version"].get<long>();
  if (version != kAuditJsonVersion)
    rd.fail("", fmt::format("schema version {} is not supported (this fpaudit reads version {})", version, kAuditJsonVersion));
}

void read_tasks(const Reader& rd, const json& task, AuditDocument& doc) {
  const json& outputs = rd.array(task, "/task", "outputs");
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const std::string p = fmt::format("/task/outputs/{}", k);
    const json& o = outputs[k];
    OutputTaskView t;
    t.name = rd.text(o, p, "name");
    t.task = rd.text(o, p, "task");
    if (t.task != "classify" && t.task != "regress" && t.task != "segment" && t.task != "detect")
      rd.fail(p + "/task", "expected classify, regress, segment or detect");
    t.reason = rd.text(o, p, "reason");
    t.shape = rd.shape(o, p, "shape");
    t.automatic = rd.boolean(o, p, "automatic");
    t.class_axis = static_cast<int>(rd.index_or_none(o, p, "class_axis"));
    t.threshold = rd.number(o, p, "threshold");
    if (!rd.field(o, p, "tolerance").is_null()) {
      t.rtol = rd.number(o["tolerance"], p + "/tolerance", "rtol");
      t.atol = rd.number(o["tolerance"], p + "/tolerance", "atol");
    }
    const json& chains = rd.field(o, p, "chains");
    for (const ChainView& c : doc.chains) {
      const json& v = rd.field(chains, p + "/chains", c.name.c_str());
      const std::string q = p + "/chains/" + c.name;
      TaskChainView s;
      s.samples = rd.integer(v, q, "samples");
      if (t.task == "regress") {
        s.within_observed = rd.integer(v, q, "within_tolerance_observed");
        s.within_proved = rd.integer(v, q, "within_tolerance_proved");
        s.outside = rd.integer(v, q, "elements_outside_tolerance");
        s.nonfinite = rd.integer(v, q, "nonfinite_samples");
        s.max_abs = rd.number(v, q, "max_abs", INFINITY);
        s.normwise_max = rd.number(v, q, "normwise_max", INFINITY);
        s.normwise_mean = rd.number(v, q, "normwise_mean", INFINITY);
        s.cosine_min = rd.number(v, q, "cosine_min");
        s.bound_max = rd.number(v, q, "bound_max", INFINITY);
        s.bound_ratio_max = rd.number(v, q, "bound_ratio_max", INFINITY);
      } else {
        s.decisions = rd.integer(v, q, "decisions");
        s.flipped = rd.integer(v, q, "flipped");
        s.samples_flipped = rd.integer(v, q, "samples_flipped");
        s.certified_observed = rd.integer(v, q, "certified_observed");
        s.certified_bound = rd.integer(v, q, "certified_bound");
        s.violations = rd.integer(v, q, "violations");
        s.min_margin = rd.number(v, q, "min_margin");
      }
      t.chains.push_back(s);
    }
    doc.tasks.push_back(std::move(t));
  }
}

void read_parameter_causes(const Reader& rd, const json& causes, AuditDocument& doc) {
  if (!causes.is_array()) rd.fail("/parameter_causes", "expected an array");
  for (std::size_t i = 0; i < causes.size(); ++i) {
    const std::string p = fmt::format("/parameter_causes/{}", i);
    const json& c = causes[i];
    ParameterCauseView v;
    v.layer = static_cast<int>(rd.integer(c, p, "layer"));
    if (v.layer < 0 || v.layer >= static_cast<int>(doc.layers.size())) rd.fail(p + "/layer", "not a layer of this audit");
    v.layer_name = rd.text(c, p, "layer_name");
    v.op = rd.text(c, p, "op");
    v.parameter = rd.text(c, p, "parameter");
    v.chain = rd.text(c, p, "chain");
    if (doc.chain_index(v.chain) < 0) rd.fail(p + "/chain", "not a chain of this audit");
    v.storage = rd.text(c, p, "storage");
    v.elements = rd.integer(c, p, "elements");
    v.overflow = rd.integer(c, p, "overflow");
    v.flushed = rd.integer(c, p, "flushed");
    v.subnormal = rd.integer(c, p, "subnormal");
    v.max_magnitude = rd.number(c, p, "max_magnitude", INFINITY);
    const json& e = rd.field(c, p, "effect");
    v.local_normwise_max = rd.number(e, p + "/effect", "local_normwise_max", INFINITY);
    v.local_abs_max = rd.number(e, p + "/effect", "local_abs_max", INFINITY);
    v.output_overflow = rd.integer(e, p + "/effect", "overflow");
    v.output_nan = rd.integer(e, p + "/effect", "nan");
    doc.parameter_causes.push_back(std::move(v));
  }
}

}  // namespace

int AuditDocument::chain_index(const std::string& name) const {
  for (std::size_t c = 0; c < chains.size(); ++c)
    if (chains[c].name == name) return static_cast<int>(c);
  return -1;
}

AuditDocument audit_document_from_json(const json& j, const std::string& source) {
  const Reader rd(source);
  check_schema(rd, j);
  AuditDocument doc;
  doc.source = source;
  doc.fpaudit_version = rd.text(j, "", "fpaudit_version");

  const json& model = rd.field(j, "", "model");
  doc.model_path = rd.text(model, "/model", "path");
  doc.producer = rd.text(model, "/model", "producer");
  doc.opset = rd.integer(model, "/model", "opset");
  const json& in = rd.field(model, "/model", "input");
  doc.input_name = rd.text(in, "/model/input", "name");
  doc.input_shape = rd.shape(in, "/model/input", "shape");
  const json& out = rd.field(model, "/model", "output");
  doc.output_name = rd.text(out, "/model/output", "name");
  doc.output_shape = rd.shape(out, "/model/output", "shape");

  const json& data = rd.field(j, "", "data");
  doc.input_path = rd.text(data, "/data", "input");
  if (!rd.field(data, "/data", "labels").is_null()) doc.labels_path = rd.text(data, "/data", "labels");
  doc.samples = rd.integer(data, "/data", "samples");
  doc.reference = rd.text(j, "", "reference");
  doc.lambda = rd.number(j, "", "lambda");

  const json& chains = rd.array(j, "", "chains");
  for (std::size_t c = 0; c < chains.size(); ++c) {
    const std::string p = fmt::format("/chains/{}", c);
    doc.chains.push_back({rd.text(chains[c], p, "name"), rd.text(chains[c], p, "storage"), rd.text(chains[c], p, "accumulator"),
                          rd.text(chains[c], p, "schedule"), rd.number(chains[c], p, "unit_roundoff"),
                          // A mixed chain's kept nodes (absent for plain chains).
                          chains[c].contains("kept") ? rd.text(rd.field(chains[c], p, "kept"), p + "/kept", "text") : ""});
  }
  if (doc.chains.empty()) rd.fail("/chains", "no chains");

  const json& layers = rd.array(j, "", "layers");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const std::string p = fmt::format("/layers/{}", l);
    LayerView layer;
    layer.index = static_cast<int>(rd.integer(layers[l], p, "index"));
    layer.name = rd.text(layers[l], p, "name");
    layer.op = rd.text(layers[l], p, "op");
    layer.exact_op = rd.boolean(layers[l], p, "exact_op");
    layer.multiply_adds = rd.integer(layers[l], p, "multiply_adds");
    const json& per_chain = rd.field(layers[l], p, "chains");
    for (const ChainView& c : doc.chains) {
      const json& st = rd.field(per_chain, p + "/chains", c.name.c_str());
      const std::string q = p + "/chains/" + c.name;
      const json& bounds = rd.field(st, q, "bounds");
      layer.chains.push_back({rd.error(st, q, "propagated"), rd.error(st, q, "local"), rd.bound(bounds, q + "/bounds", "propagated"),
                              rd.bound(bounds, q + "/bounds", "local"), rd.events(st, q)});
    }
    doc.layers.push_back(std::move(layer));
  }

  const json& cls = rd.field(j, "", "classification");
  doc.reference_accuracy = rd.number(cls, "/classification", "reference_accuracy");
  const json& cls_chains = rd.field(cls, "/classification", "chains");
  const json& firsts = rd.field(j, "", "first_nonfinite");
  for (const ChainView& c : doc.chains) {
    ChainClassificationView v = classification(rd, rd.field(cls_chains, "/classification/chains", c.name.c_str()),
                                               "/classification/chains/" + c.name);
    const json& f = rd.field(firsts, "/first_nonfinite", c.name.c_str());
    v.first_nonfinite_layer = static_cast<int>(rd.index_or_none(f, "/first_nonfinite/" + c.name, "layer"));
    v.first_nonfinite_samples = rd.integer(f, "/first_nonfinite/" + c.name, "samples");
    doc.classification.push_back(std::move(v));
  }

  const json& samples = rd.array(j, "", "samples");
  for (std::size_t s = 0; s < samples.size(); ++s) {
    const std::string p = fmt::format("/samples/{}", s);
    SampleView rec;
    rec.index = rd.integer(samples[s], p, "index");
    rec.label = static_cast<int>(rd.index_or_none(samples[s], p, "label"));
    rec.reference_top1 = static_cast<int>(rd.integer(samples[s], p, "reference_top1"));
    rec.margin_reference = rd.number(samples[s], p, "margin_reference");
    rec.margin_fp32 = rd.number(samples[s], p, "margin_fp32");
    const json& per_chain = rd.field(samples[s], p, "chains");
    for (const ChainView& c : doc.chains) {
      const json& v = rd.field(per_chain, p + "/chains", c.name.c_str());
      const std::string q = p + "/chains/" + c.name;
      rec.chains.push_back({static_cast<int>(rd.integer(v, q, "top1")), rd.number(v, q, "delta_reference", INFINITY),
                            rd.number(v, q, "delta_fp32"), rd.boolean(v, q, "certified"), rd.boolean(v, q, "tie"),
                            static_cast<int>(rd.integer(v, q, "first_nonfinite_layer"))});
    }
    doc.records.push_back(std::move(rec));
  }

  if (j.contains("task")) read_tasks(rd, j["task"], doc);
  if (j.contains("parameter_causes")) read_parameter_causes(rd, j["parameter_causes"], doc);
  if (j.contains("compare")) doc.compare = read_compare_views(j["compare"], source);

  // Timing is the one part a golden test may strip; a document without it is still complete.
  doc.seconds = NAN;
  if (j.contains("timing")) {
    doc.seconds = rd.number(j["timing"], "/timing", "seconds");
    doc.threads = static_cast<int>(rd.integer(j["timing"], "/timing", "threads"));
  }
  return doc;
}

AuditDocument read_audit_document(const std::filesystem::path& path) {
  const std::string name = path.string();
  if (std::filesystem::is_directory(path)) throw ReportError(name + ": is a folder, not an audit JSON");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReportError(fmt::format("{}: cannot open ({})", name, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  const json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw ReportError(name + ": not an fpaudit audit JSON (not valid JSON)");
  return audit_document_from_json(j, name);
}

}  // namespace fpaudit
