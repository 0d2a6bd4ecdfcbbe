// Layers grouped into modules: by node-name prefix (as a PyTorch export names a ViT) and by
// operator pattern (the same operators without names), and the module statistics, each
// aggregated as ModuleStats documents, worked out by hand.
#include <cmath>

#include <doctest/doctest.h>

#include "report/modules.h"
#include "report/render.h"

using namespace fpaudit;

namespace {

LayerView layer(const std::string& name, const std::string& op, bool exact = false) {
  LayerView l;
  l.name = name;
  l.op = op;
  l.exact_op = exact;
  l.chains.resize(1);
  return l;
}

std::vector<LayerView> named(const std::string& prefix, std::initializer_list<const char*> ops) {
  std::vector<LayerView> out;
  for (const char* op : ops) {
    const std::string o = op;
    const bool exact = o == "Reshape" || o == "Transpose" || o == "Gather";
    std::string name = prefix;
    name += '/';
    name += o;
    if (!out.empty()) name.append(1, '_').append(std::to_string(out.size()));
    out.push_back(layer(name, o, exact));
  }
  return out;
}

void append(std::vector<LayerView>& to, const std::vector<LayerView>& more) { to.insert(to.end(), more.begin(), more.end()); }

/// (name, kind, number of layers) of each module.
std::vector<std::string> summary(const std::vector<Module>& modules) {
  std::vector<std::string> out;
  for (const Module& m : modules) out.push_back(m.name + " | " + m.kind + " | " + std::to_string(m.layers.size()));
  return out;
}

}  // namespace

TEST_CASE("modules from node-name prefixes, kinds from their operators (a ViT block as exported)") {
  std::vector<LayerView> layers = {layer("/patch_embed/Conv", "Conv"), layer("/Reshape", "Reshape", true),
                                   layer("/Transpose", "Transpose", true), layer("/Add", "Add")};
  append(layers, named("/blocks/blocks.0/norm1", {"ReduceMean", "Sub", "Pow", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"}));
  append(layers, named("/blocks/blocks.0/attn/qkv", {"MatMul", "Add"}));
  append(layers, named("/blocks/blocks.0/attn",
                       {"Reshape", "Transpose", "Gather", "Gather", "Gather", "MatMul", "Mul", "Softmax", "MatMul", "Transpose", "Reshape"}));
  append(layers, named("/blocks/blocks.0/attn/proj", {"MatMul", "Add"}));
  layers.push_back(layer("/blocks/blocks.0/Add", "Add"));
  append(layers, named("/blocks/blocks.0/mlp/mlp.1", {"Div", "Erf", "Add", "Mul", "Mul"}));
  layers.push_back(layer("/head/Gemm", "Gemm"));

  const std::vector<Module> modules = group_modules(layers);
  CHECK(summary(modules) == std::vector<std::string>{"/patch_embed/Conv | Conv | 1", "/Reshape | Reshape | 1",
                                                     "/Transpose | Transpose | 1", "/Add | Add | 1",
                                                     "/blocks/blocks.0/norm1 | LayerNorm | 9", "/blocks/blocks.0/attn/qkv | linear | 2",
                                                     "/blocks/blocks.0/attn | attention | 11", "/blocks/blocks.0/attn/proj | linear | 2",
                                                     "/blocks/blocks.0/Add | Add | 1", "/blocks/blocks.0/mlp/mlp.1 | GELU | 5",
                                                     "/head/Gemm | Gemm | 1"});
  // Every layer in exactly one module, in order.
  int next = 0;
  for (const Module& m : modules)
    for (const int l : m.layers) CHECK(l == next++);
  CHECK(next == static_cast<int>(layers.size()));
}

TEST_CASE("modules from operator patterns when names share no prefix") {
  std::vector<LayerView> layers;
  int n = 0;
  for (const char* op : {"ReduceMean", "Sub", "Pow", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add",  // LayerNorm with affine
                         "MatMul", "Add",                                                             // not attention: no Softmax
                         "Transpose", "MatMul", "Mul", "Softmax", "MatMul",                           // attention core
                         "Mul", "Div", "Erf", "Add", "Mul",                                           // GELU, 0.5 first
                         "ReduceMean", "Sub", "Pow", "ReduceMean", "Add", "Sqrt", "Div",              // LayerNorm without affine
                         "Gemm"})
    layers.push_back(layer(std::string("node_").append(std::to_string(n++)), op, std::string(op) == "Transpose"));
  CHECK(summary(group_modules(layers)) == std::vector<std::string>{"node_0 | LayerNorm | 9", "node_9 | MatMul | 1", "node_10 | Add | 1",
                                                                  "node_11 | attention | 5", "node_16 | GELU | 5",
                                                                  "node_21 | LayerNorm | 7", "node_28 | Gemm | 1"});
}

TEST_CASE("one folder holding every layer is not a module; other groups are named by their operators") {
  const std::vector<LayerView> flat = {layer("/net/Gemm", "Gemm"), layer("/net/BatchNormalization", "BatchNormalization"),
                                       layer("/net/Gemm_1", "Gemm")};
  const std::vector<Module> singles = group_modules(flat);
  REQUIRE(singles.size() == 3);
  CHECK(singles[1].kind == "BatchNorm");
  CHECK(module_kind({"Conv", "Relu", "Conv"}) == "Conv+Relu");
  CHECK(module_kind({"ReduceMean", "Sub", "Pow", "Sqrt", "Div", "Exp"}) == "6 ops");  // too long to read: counted
  CHECK(module_kind({"Gemm"}) == "Gemm");
  CHECK(module_kind({"BatchNormalization"}) == "BatchNorm");
}

TEST_CASE("module statistics: max local error, the output layer's propagated error, bounds and events") {
  AuditDocument doc;
  doc.chains.resize(1);
  doc.layers = {layer("/m/MatMul", "MatMul"), layer("/m/Transpose", "Transpose", true), layer("/m/Add", "Add"), layer("/out/Gemm", "Gemm")};
  auto set = [&](int l, double local_rel, double prop_abs, double prop_rel, double local_ratio, double prop_ratio, std::uint64_t viol,
                 std::uint64_t overflow, double headroom) {
    LayerChainView& st = doc.layers[l].chains[0];
    st.local.abs.count = st.propagated.abs.count = 10;
    st.local.normwise_max = local_rel;
    st.propagated.abs.max = prop_abs;
    st.propagated.normwise_max = prop_rel;
    st.local_bound.checked = st.propagated_bound.checked = 10;
    st.local_bound.ratio.max = local_ratio;
    st.propagated_bound.ratio.max = prop_ratio;
    st.local_bound.violations = viol;
    st.events.overflow = overflow;
    st.events.headroom_log2 = headroom;
  };
  set(0, 3e-3, 0.5, 2e-3, 0.25, 0.1, 0, 4, 9.5);
  set(1, 0, 0.5, 2e-3, 0, 0.9, 0, 4, 9.5);  // exact: its inherited propagated ratio is not the module's
  set(2, 1e-3, 0.75, 1.5e-3, 0.6, 0.2, 2, 1, 7.25);
  const std::vector<Module> modules = group_modules(doc.layers);
  REQUIRE(modules.size() == 2);  // /m and /out/Gemm
  const ModuleStats s = module_stats(doc, modules[0], 0);
  CHECK(s.computes);
  CHECK(s.local_rel == 3e-3);
  CHECK(s.local_layer == 0);
  CHECK(s.propagated_abs == 0.75);  // the output layer's, not the largest
  CHECK(s.propagated_rel == 1.5e-3);
  CHECK(s.local_ratio == 0.6);
  CHECK(s.propagated_ratio == 0.2);
  CHECK(s.violations == 2);
  CHECK(s.nonfinite == 4);  // the largest of one layer, not 9
  CHECK(s.headroom_log2 == 7.25);
  CHECK(summed_local_rel(doc, 0) == 3e-3 + 1e-3);  // /out/Gemm measured nothing

  // The compact table: the share is 3e-3 / 4e-3, and the bound violation makes the row Bad.
  const Table t = module_table(doc, 0, modules, {0}, true);
  REQUIRE(t.rows.size() == 1);
  CHECK(cell_text(t.rows[0][0]) == "/m");
  CHECK(cell_text(t.rows[0][1]) == "3 ops");  // "MatMul+Transpose+Add" is longer than 16 characters
  CHECK(cell_text(t.rows[0][2]) == "0.003");
  CHECK(cell_text(t.rows[0][3]) == "75%");
  CHECK(t.rows[0][7].mark == Mark::Bad);  // viol.
}

TEST_CASE("the modules that matter: a violation, then non-finite values, then the largest local error") {
  AuditDocument doc;
  doc.chains.resize(1);
  doc.layers = {layer("a", "Conv"), layer("b", "Relu", true), layer("c", "Conv"), layer("d", "Conv"), layer("e", "Conv")};
  doc.layers[0].chains[0].local.abs.count = doc.layers[2].chains[0].local.abs.count = 1;
  doc.layers[3].chains[0].local.abs.count = doc.layers[4].chains[0].local.abs.count = 1;
  doc.layers[0].chains[0].local.normwise_max = 5e-3;
  doc.layers[2].chains[0].local.normwise_max = 1e-3;
  doc.layers[3].chains[0].local.normwise_max = 1e-4;
  doc.layers[3].chains[0].events.nan = 2;
  doc.layers[4].chains[0].local.normwise_max = 1e-5;
  doc.layers[4].chains[0].propagated_bound.violations = 1;
  const std::vector<Module> modules = group_modules(doc.layers);
  CHECK(modules_that_matter(doc, 0, modules, 5) == std::vector<std::size_t>{4, 3, 0, 2});  // b only moves data
  CHECK(modules_that_matter(doc, 0, modules, 2) == std::vector<std::size_t>{4, 3});
}

TEST_CASE("the verdict's bounds column: certified share, a-posteriori fallback, uninformative, violated") {
  AuditDocument doc = read_audit_document(std::string(FPAUDIT_REPORT_DATA) + "/mlp_60.json");
  REQUIRE(doc.chains.size() == 5);
  REQUIRE(doc.samples == 60);
  auto certify = [&](std::size_t c, bool a_priori, long det, long post) {
    CertifiedView& v = doc.classification[c].certified;
    v.present = true;
    v.a_priori_present = a_priori;
    v.a_priori_det = det;
    v.a_posteriori_det = post;
  };
  certify(0, true, 59, 59);  // fp32: the bounds prove 59 of 60
  certify(1, true, 0, 0);    // fp16: they prove nothing
  certify(2, true, 0, 15);   // fp16-acc32: only along the chain's own values
  certify(3, false, 0, 0);   // bf16: --no-apriori
  doc.layers[1].chains[4].local_bound.violations = 2;  // bf16-acc32: a violated bound outranks everything
  const Table t = verdict_table(doc);
  const std::size_t bounds = t.columns.size() - 1;
  REQUIRE(t.columns[bounds].title == "bounds a priori");
  CHECK(cell_text(t.rows[0][bounds]) == "98.3%");
  CHECK(cell_text(t.rows[1][bounds]) == "uninformative: 0%");
  CHECK(t.rows[1][bounds].mark == Mark::Warn);
  CHECK(cell_text(t.rows[2][bounds]) == "0% (a post. 25.0%)");
  CHECK(cell_text(t.rows[3][bounds]) == "not run (a post. 0%)");
  CHECK(cell_text(t.rows[4][bounds]) == "VIOLATED: 2");
  CHECK(t.rows[4][bounds].mark == Mark::Bad);
  // Worst layer and share: fp32's largest local ‖rel‖ is /net/net.1/Gemm, 55% of the summed local ‖rel‖.
  CHECK(cell_text(t.rows[0][5]) == "/net/net.1/Gemm");
  const double share = doc.layers[1].chains[0].local.normwise_max / summed_local_rel(doc, 0);
  CHECK(t.rows[0][6].value == share);
  CHECK(cell_text(t.rows[0][6]) == "55%");
}
