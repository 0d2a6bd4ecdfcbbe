#include "shadow/plan.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "core/mixed_arithmetic.h"
#include "core/reference_arithmetic.h"
#include "graph/cost.h"
#include "graph/layer_norm_pattern.h"
#include "shadow/constant_store.h"

namespace fpaudit {

namespace {
/// Constants a kernel may read at run time: floating point, and booleans (as 0 and 1: the
/// conditions of Where, the operands of And/Or/Xor). Other integers are read at preparation.
bool is_runtime_readable(DType t) { return is_float(t) || t == DType::Bool; }
}  // namespace

void PlannedLayer::bound(const bounds::BoundRequest& request) const {
  if (exact_data) {  // the same integers in every chain and the reference
    for (Tensor* t : request.det) if (t) std::fill(t->data.begin(), t->data.end(), 0.0);
    for (Tensor* t : request.prob) if (t) std::fill(t->data.begin(), t->data.end(), 0.0);
    return;
  }
  if (bound_rule) return bound_rule->bound(request);
  if (!kernel->exact()) throw bounds::NoBound("no error-bound rule for this operator");
  // A selection or permutation of its inputs: |sel(x_c) - sel(x̄)| ≤ sel(err) for data
  // movement, and for max-type selections |max a - max b| ≤ max |a - b| ≤ max err.
  static const ExactArithmetic exact;
  std::vector<const Tensor*> det_in, prob_in;
  for (std::size_t i = 0; i < request.inputs.size(); ++i) {
    const bounds::Enclosure& e = request.inputs[i];
    const bool selector = i < exact_inputs.size() && exact_inputs[i] && e.present();
    det_in.push_back(selector ? e.lo : e.err);
    prob_in.push_back(selector ? e.lo : e.err_prob);
  }
  kernel->run(exact, det_in, request.det);
  kernel->run(exact, prob_in, request.prob);
}

Plan::Plan(const Graph& graph) : graph_(&graph) {
  std::map<std::string, int> index;
  auto slot_for = [&](const std::string& name) -> int {
    auto it = index.find(name);
    if (it != index.end()) return it->second;
    Slot s;
    s.name = name;
    if (const ValueInfo* v = graph.value(name)) s.shape = v->shape, s.dtype = v->dtype, s.exact_data = v->exact_data;
    if (const Constant* c = graph.constant(name)) {
      s.shape = c->shape;
      if (is_runtime_readable(c->dtype)) s.constant = c;
    }
    slots_.push_back(std::move(s));
    return index[name] = static_cast<int>(slots_.size()) - 1;
  };
  for (const ValueInfo& in : graph.inputs) inputs_.push_back(slot_for(in.name));

  for (const Node& node : graph.nodes) {
    const OpContext ctx = context_of(graph, node);
    PlannedLayer layer;
    layer.node = &node;
    layer.kernel = make_op_kernel(ctx);
    for (const std::string& out : node.outputs) {
      const ValueInfo* v = out.empty() ? nullptr : graph.value(out);
      if (v) layer.exact_data = v->exact_data;
    }
    if (!layer.exact_data) layer.bound_rule = bounds::make_bound_rule(ctx);
    for (const std::string& in : node.inputs) {
      const ValueInfo* v = in.empty() || graph.constant(in) ? nullptr : graph.value(in);
      layer.exact_inputs.push_back(v && v->exact_data ? 1 : 0);
    }
    const std::vector<std::size_t> prep = layer.kernel->preparation_inputs();
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      const bool skip = node.inputs[i].empty() || std::find(prep.begin(), prep.end(), i) != prep.end();
      if (!skip) {
        const Constant* c = graph.constant(node.inputs[i]);
        if (c && !is_runtime_readable(c->dtype)) ctx.fail(fmt::format("input '{}' is an integer tensor the kernel does not read at preparation", node.inputs[i]));
      }
      layer.inputs.push_back(skip ? -1 : slot_for(node.inputs[i]));
    }
    for (const std::string& out : node.outputs) layer.outputs.push_back(out.empty() ? -1 : slot_for(out));
    layer.multiply_adds = multiply_adds(graph, node);
    layers_.push_back(std::move(layer));
  }
  for (const ValueInfo& out : graph.outputs) outputs_.push_back(slot_for(out.name));
  // Layer l runs graph.nodes[l]: the pattern's Div gets its one-operator rule.
  for (const LayerNormPattern& p : find_layer_norm_patterns(graph)) {
    PlannedLayer& div = layers_[p.div];
    if (div.exact_data || !div.bound_rule || div.inputs.size() != 2) continue;
    div.pattern_rule = bounds::make_layer_norm_pattern_rule(bounds::make_bound_rule(context_of(graph, *div.node)), p.row, p.rows);
    div.pattern_inputs = {div.inputs[0], div.inputs[1], slot_for(p.input), slot_for(p.epsilon)};
    for (std::size_t n : {p.mean, p.sub, p.pow, p.var, p.add, p.sqrt, p.div}) div.pattern_nodes.push_back(&graph.nodes[n]);
  }
  producer_.assign(slots_.size(), -1);
  readers_.resize(slots_.size());
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    for (int o : layers_[l].outputs)
      if (o >= 0) producer_[static_cast<std::size_t>(o)] = static_cast<int>(l);
    for (int i : layers_[l].inputs) {
      if (i < 0) continue;
      std::vector<int>& r = readers_[static_cast<std::size_t>(i)];
      if (r.empty() || r.back() != static_cast<int>(l)) r.push_back(static_cast<int>(l));
    }
  }
  dead_after_.resize(layers_.size());
  std::vector<char> output(slots_.size(), 0);
  for (int o : outputs_) output[static_cast<std::size_t>(o)] = 1;
  // A value lives until its last reader, counting an exported LayerNorm's Div, whose one-operator
  // bound reads the pattern's input (and ε) several layers after the ReduceMean and Sub.
  std::vector<int> last_read(slots_.size(), -1);
  for (std::size_t l = 0; l < layers_.size(); ++l)
    for (int i : layers_[l].pattern_inputs)
      if (i >= 0) last_read[static_cast<std::size_t>(i)] = static_cast<int>(l);
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s].constant || output[s]) continue;
    int last = std::max(producer_[s], last_read[s]);
    for (int r : readers_[s]) last = std::max(last, r);
    if (last >= 0) dead_after_[static_cast<std::size_t>(last)].push_back(static_cast<int>(s));
  }
  in_place_.assign(layers_.size(), 0);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const PlannedLayer& layer = layers_[l];
    if (!layer.kernel->elementwise_in_place() || layer.inputs.empty() || layer.outputs.empty()) continue;
    const int in = layer.inputs[0], out = layer.outputs[0];
    if (in < 0 || out < 0 || slots_[static_cast<std::size_t>(in)].constant) continue;
    if (std::count(layer.inputs.begin(), layer.inputs.end(), in) != 1) continue;
    const std::vector<int>& dead = dead_after_[l];
    if (std::find(dead.begin(), dead.end(), in) == dead.end()) continue;
    in_place_[l] = element_count(slots_[static_cast<std::size_t>(in)].shape) == element_count(slots_[static_cast<std::size_t>(out)].shape);
  }
}

const Arithmetic& holder_of(const Plan& plan, const Arithmetic& a, int slot) {
  const MixedArithmetic* m = a.mixed();
  if (!m) return a;
  const int p = plan.producer(slot);
  if (p >= 0) return m->at(*plan.layers()[static_cast<std::size_t>(p)].node);
  for (int l : plan.readers(slot))
    if (m->keeps(*plan.layers()[static_cast<std::size_t>(l)].node)) return m->kept();
  return m->base();
}

const Arithmetic* crossing(const Plan& plan, const Arithmetic& a, const PlannedLayer& layer, int slot) {
  const MixedArithmetic* m = a.mixed();
  if (!m || slot < 0) return nullptr;
  const Arithmetic& reader = m->at(*layer.node);
  return holder_of(plan, a, slot).storage() == reader.storage() ? nullptr : &reader;
}

int Plan::slot_of(const std::string& name) const {
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<const Tensor*> constant_inputs(const PlannedLayer& layer, const Activations& values) {
  std::vector<const Tensor*> out;
  for (int in : layer.inputs)
    out.push_back(in >= 0 && values.plan().slots()[static_cast<std::size_t>(in)].constant ? &values.value(in) : nullptr);
  return out;
}

std::vector<Tensor> round_constants(const Plan& plan, const Arithmetic& a) {
  std::vector<Tensor> out(plan.slots().size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Slot& s = plan.slots()[i];
    if (!s.constant) continue;
    out[i].shape = s.constant->shape;
    // Booleans are stored as ints: 0 and 1, which every storage format holds exactly.
    const Constant& c = *s.constant;
    if (c.values.empty() && !c.ints.empty()) out[i].data.assign(c.ints.begin(), c.ints.end());
    else out[i].data = c.values;
    holder_of(plan, a, static_cast<int>(i)).round_storage(out[i].data);
    out[i].packs = std::make_shared<OperandPacks>();
  }
  return out;
}

Activations::Activations(const Plan& plan, const std::vector<Tensor>& constants)
    : plan_(&plan), constants_(&constants), values_(plan.slots().size()), allocated_(values_.size(), 0) {}

Activations::Activations(const Plan& plan, ConstantCache& constants)
    : plan_(&plan), cache_(&constants), values_(plan.slots().size()), allocated_(values_.size(), 0) {}

std::vector<double> BufferPool::take(std::size_t n) {
  for (std::size_t k = free_.size(); k-- > 0;)
    if (free_[k].size() == n) {
      std::vector<double> v = std::move(free_[k]);
      free_[k] = std::move(free_.back());
      free_.pop_back();
      return v;
    }
  if (poison_) return std::vector<double>(n, std::numeric_limits<double>::quiet_NaN());
  return {};
}

void BufferPool::give(std::vector<double>&& v) {
  if (!v.empty() && free_.size() < kMaxBuffers) free_.push_back(std::move(v));
}

Tensor& Activations::runtime(int slot) const {
  const std::size_t i = static_cast<std::size_t>(slot);
  if (!allocated_[i]) {
    const Shape& shape = plan_->slots()[i].shape;
    std::vector<double> recycled = pool_ ? pool_->take(static_cast<std::size_t>(element_count(shape))) : std::vector<double>{};
    if (recycled.empty()) {
      values_[i] = Tensor(shape);
    } else {
      values_[i] = Tensor();
      values_[i].shape = shape;
      values_[i].data = std::move(recycled);
    }
    allocated_[i] = 1;
  }
  return values_[i];
}

void Activations::release(int slot) {
  const std::size_t i = static_cast<std::size_t>(slot);
  if (pool_) pool_->give(std::move(values_[i].data));
  values_[i] = Tensor();
  allocated_[i] = 0;
}

void Activations::hand_over(int from, int to) {
  Tensor& source = runtime(from);
  const std::size_t t = static_cast<std::size_t>(to);
  if (allocated_[t] && pool_) pool_->give(std::move(values_[t].data));
  values_[t] = Tensor();
  values_[t].shape = plan_->slots()[t].shape;
  values_[t].data = std::move(source.data);
  allocated_[t] = 1;
  source = Tensor();  // still allocated: a read finds it empty instead of a fresh buffer
}

const Tensor& Activations::constant(int slot) const {
  return cache_ ? cache_->at(slot) : (*constants_)[static_cast<std::size_t>(slot)];
}

void Activations::set_input(std::size_t k, std::vector<double> values) {
  Tensor& t = runtime(plan_->input_slots().at(k));
  t.data = std::move(values);
}

const Tensor& Activations::value(int slot) const {
  return plan_->slots()[slot].constant ? constant(slot) : runtime(slot);
}

void Activations::operands(const Arithmetic& a, std::size_t index, const Activations& source, const Tensor** ins, Tensor** outs) {
  const PlannedLayer& layer = plan_->layers()[index];
  for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
    const int s = layer.inputs[i];
    // Constants always come from this arithmetic's own rounded copy.
    ins[i] = s < 0 ? nullptr : (plan_->slots()[s].constant ? &constant(s) : &source.runtime(s));
  }
  for (std::size_t i = 0; i < layer.outputs.size(); ++i) outs[i] = layer.outputs[i] < 0 ? nullptr : &runtime(layer.outputs[i]);
  if (a.mixed()) {
    // A value held in another storage format is rounded into this node's first, as a Cast at
    // the boundary would (theory/mixed-chains.md). A rounded constant gets no packs: they cache
    // conversions of the stored values.
    if (crossed_.size() < layer.inputs.size()) crossed_.resize(layer.inputs.size());
    for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
      const Arithmetic* to = crossing(*plan_, a, layer, layer.inputs[i]);
      if (!to) continue;
      crossed_[i].shape = ins[i]->shape;
      crossed_[i].data = ins[i]->data;
      crossed_[i].packs.reset();
      to->round_storage(crossed_[i].data);
      ins[i] = &crossed_[i];
    }
  }
}

void Activations::run_layer(const Arithmetic& a, std::size_t index, const Activations& source) {
  const PlannedLayer& layer = plan_->layers()[index];
  const Tensor* in[16];
  Tensor* out[16];
  std::vector<const Tensor*> in_big;
  std::vector<Tensor*> out_big;
  const Tensor** ins = in;
  Tensor** outs = out;
  if (layer.inputs.size() > 16) { in_big.resize(layer.inputs.size()); ins = in_big.data(); }
  if (layer.outputs.size() > 16) { out_big.resize(layer.outputs.size()); outs = out_big.data(); }
  operands(a, index, source, ins, outs);
  layer.kernel->run(arithmetic_at(a, *layer.node), {ins, layer.inputs.size()}, {outs, layer.outputs.size()});
}

void run_layer_batch(const Arithmetic& a, std::size_t index, std::span<Activations> batch, bool input0_is_output0) {
  if (batch.empty()) return;
  const PlannedLayer& layer = batch[0].plan().layers()[index];
  const std::size_t ni = layer.inputs.size(), no = layer.outputs.size();
  thread_local std::vector<const Tensor*> ins;
  thread_local std::vector<Tensor*> outs;
  ins.resize(ni * batch.size());
  outs.resize(no * batch.size());
  for (std::size_t b = 0; b < batch.size(); ++b) {
    batch[b].operands(a, index, batch[b], ins.data() + b * ni, outs.data() + b * no);
    if (input0_is_output0) ins[b * ni] = outs[b * no];
  }
  layer.kernel->run_batch(arithmetic_at(a, *layer.node), static_cast<long>(batch.size()), ins, outs);
}

bool runs_in_place(const Plan& plan, const Arithmetic& a, std::size_t index) { return !a.mixed() && plan.in_place(index); }

void Activations::run_all(const Arithmetic& a) {
  for (std::size_t i = 0; i < plan_->layers().size(); ++i) run_layer(a, i, *this);
}

std::vector<double> stored_input(const Plan& plan, std::size_t k, const Arithmetic& a, std::vector<double> x) {
  const int slot = plan.input_slots().at(k);
  if (is_float(plan.slots()[static_cast<std::size_t>(slot)].dtype)) holder_of(plan, a, slot).round_storage(x);
  return x;
}

std::vector<Tensor> evaluate(const Plan& plan, const Arithmetic& a, const std::vector<std::vector<double>>& inputs) {
  return evaluate(plan, a, round_constants(plan, a), inputs);
}

namespace {
/// Runs every layer, freeing what no later layer reads, and returns the graph outputs.
std::vector<Tensor> evaluate_outputs(Activations& act, const Arithmetic& a, const std::vector<std::vector<double>>& inputs) {
  const Plan& plan = act.plan();
  for (std::size_t k = 0; k < inputs.size(); ++k) act.set_input(k, stored_input(plan, k, a, inputs[k]));
  for (std::size_t l = 0; l < plan.layers().size(); ++l) {
    act.run_layer(a, l, act);
    for (int s : plan.dead_after(l)) act.release(s);
  }
  std::vector<Tensor> out;
  for (int s : plan.output_slots()) out.push_back(act.value(s));
  return out;
}
}  // namespace

std::vector<std::vector<Tensor>> evaluate_batch(const Plan& plan, const Arithmetic& a, ConstantCache& constants,
                                                const std::vector<std::vector<std::vector<double>>>& inputs,
                                                BufferPool* pool) {
  // One pool per thread, kept across batches: a layer's outputs reuse the buffers an earlier
  // layer (or batch) freed. Every kernel writes its outputs whole (OpKernel::run).
  thread_local BufferPool thread_pool;
  if (!pool) pool = &thread_pool;
  std::vector<Activations> batch;
  for (std::size_t b = 0; b < inputs.size(); ++b) {
    batch.emplace_back(plan, constants);
    batch.back().recycle_through(pool);
    for (std::size_t k = 0; k < inputs[b].size(); ++k) batch[b].set_input(k, stored_input(plan, k, a, inputs[b][k]));
  }
  for (std::size_t l = 0; l < plan.layers().size(); ++l) {
    const PlannedLayer& layer = plan.layers()[l];
    if (runs_in_place(plan, a, l)) {
      for (Activations& act : batch) act.hand_over(layer.inputs[0], layer.outputs[0]);
      run_layer_batch(a, l, batch, /*input0_is_output0=*/true);
    } else {
      run_layer_batch(a, l, batch);
    }
    for (int s : plan.dead_after(l))
      for (Activations& act : batch) act.release(s);
  }
  std::vector<std::vector<Tensor>> out(inputs.size());
  for (std::size_t b = 0; b < inputs.size(); ++b)
    for (int s : plan.output_slots()) out[b].push_back(batch[b].value(s));
  return out;
}

std::vector<Tensor> evaluate(const Plan& plan, const Arithmetic& a, const std::vector<Tensor>& constants,
                             const std::vector<std::vector<double>>& inputs) {
  Activations act(plan, constants);
  return evaluate_outputs(act, a, inputs);
}

std::vector<Tensor> evaluate(const Plan& plan, const Arithmetic& a, ConstantCache& constants,
                             const std::vector<std::vector<double>>& inputs) {
  Activations act(plan, constants);
  return evaluate_outputs(act, a, inputs);
}

}  // namespace fpaudit
