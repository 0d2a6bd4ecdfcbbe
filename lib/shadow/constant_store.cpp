#include "shadow/constant_store.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace fpaudit {

namespace {

/// The slot's exact values as the graph holds them: floats, or booleans as 0 and 1.
void graph_values(const Slot& s, std::vector<double>& out) {
  const Constant& c = *s.constant;
  if (c.values.empty() && !c.ints.empty()) out.assign(c.ints.begin(), c.ints.end());
  else out.assign(c.values.begin(), c.values.end());
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

/// Whether every value survives binary32 bit for bit (signed zeros, infinities and NaN payloads
/// included), so that a binary32 copy gives back exactly these binary64 values.
bool binary32_exact(const std::vector<double>& v) {
  for (double x : v)
    if (std::bit_cast<std::uint64_t>(static_cast<double>(static_cast<float>(x))) != std::bit_cast<std::uint64_t>(x)) return false;
  return true;
}

}  // namespace

ConstantStore::ConstantStore(const Plan& plan, std::vector<Kind> kinds)
    : plan_(&plan), kind_(std::move(kinds)), float_(kind_.size()), double_(kind_.size()) {
  for (const PlannedLayer& layer : plan.layers()) {
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
      const int s = layer.inputs[i];
      bool first = s >= 0 && plan.slots()[static_cast<std::size_t>(s)].constant;
      for (std::size_t j = 0; j < i && first; ++j) first = layer.inputs[j] != s;
      if (first) bytes += static_cast<std::size_t>(element_count(plan.slots()[static_cast<std::size_t>(s)].constant->shape)) * sizeof(double);
    }
    layer_bytes_ = std::max(layer_bytes_, bytes);
  }
}

std::shared_ptr<const ConstantStore> ConstantStore::rounded(const Plan& plan, const Arithmetic& a) {
  const std::size_t n = plan.slots().size();
  auto store = std::make_shared<ConstantStore>(plan, std::vector<Kind>(n, Kind::None));
  std::vector<double> exact, r;
  for (std::size_t i = 0; i < n; ++i) {
    const Slot& s = plan.slots()[i];
    if (!s.constant) continue;
    // One slot at a time: the setup never holds a binary64 copy of more than one tensor.
    graph_values(s, exact);
    r = exact;
    holder_of(plan, a, static_cast<int>(i)).round_storage(r);
    if (same_bits(r, exact) && !s.constant->values.empty()) {
      store->kind_[i] = Kind::Graph;
    } else if (binary32_exact(r)) {
      store->kind_[i] = Kind::Float;
      store->float_[i].assign(r.begin(), r.end());
    } else {
      store->kind_[i] = Kind::Double;
      store->double_[i] = r;
    }
  }
  return store;
}

std::shared_ptr<const ConstantStore> ConstantStore::zeros(const Plan& plan) {
  std::vector<Kind> kinds(plan.slots().size(), Kind::None);
  for (std::size_t i = 0; i < kinds.size(); ++i)
    if (plan.slots()[i].constant) kinds[i] = Kind::Zero;
  return std::make_shared<ConstantStore>(plan, std::move(kinds));
}

std::shared_ptr<const ConstantStore> ConstantStore::rounding_error(std::shared_ptr<const ConstantStore> values,
                                                                   std::shared_ptr<const ConstantStore> exact) {
  const Plan& plan = values->plan();
  std::vector<Kind> kinds(plan.slots().size(), Kind::None);
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    if (!plan.slots()[i].constant) continue;
    // |c − c| = 0 for every finite c; a NaN or infinite weight gives NaN, so only the graph's own
    // values against themselves with every value finite are zero without computing them.
    const bool both_graph = values->kind_[i] == Kind::Graph && exact->kind_[i] == Kind::Graph;
    bool finite = true;
    for (double v : plan.slots()[i].constant->values) finite = finite && std::isfinite(v);
    kinds[i] = both_graph && finite ? Kind::Zero : Kind::Difference;
  }
  auto store = std::make_shared<ConstantStore>(plan, std::move(kinds));
  store->values_ = std::move(values);
  store->exact_ = std::move(exact);
  return store;
}

void ConstantStore::expand(int slot, std::vector<double>& out) const {
  const std::size_t i = static_cast<std::size_t>(slot);
  const Slot& s = plan_->slots()[i];
  switch (kind_[i]) {
    case Kind::None: out.clear(); return;
    case Kind::Graph: graph_values(s, out); return;
    case Kind::Float: out.assign(float_[i].begin(), float_[i].end()); return;
    case Kind::Double: out = double_[i]; return;
    case Kind::Zero: out.assign(static_cast<std::size_t>(element_count(s.constant->shape)), 0.0); return;
    case Kind::Difference: {
      // In binary64 as store_constants computed it from two binary64 copies: the same bits.
      thread_local std::vector<double> e;
      values_->expand(slot, out);
      exact_->expand(slot, e);
      for (std::size_t k = 0; k < out.size(); ++k) out[k] = std::fabs(out[k] - e[k]);
      return;
    }
  }
}

std::size_t ConstantStore::held_bytes() const {
  std::size_t b = 0;
  for (const auto& f : float_) b += f.size() * sizeof(float);
  for (const auto& d : double_) b += d.size() * sizeof(double);
  return b;
}

ConstantCache::ConstantCache(std::shared_ptr<const ConstantStore> store)
    : store_(std::move(store)),
      tensors_(store_->plan().slots().size()),
      used_(tensors_.size(), 0),
      capacity_(2 * store_->layer_bytes()) {}

const Tensor& ConstantCache::at(int slot) {
  const std::size_t i = static_cast<std::size_t>(slot);
  Tensor& t = tensors_[i];
  const bool expanded = used_[i] != 0;
  used_[i] = ++clock_;
  if (expanded) return t;
  const Slot& s = store_->plan().slots()[i];
  const std::size_t bytes = static_cast<std::size_t>(element_count(s.constant->shape)) * sizeof(double);
  // Least recently read first; the slot being read now is not in live_ yet.
  while (bytes_ + bytes > capacity_ && !live_.empty()) {
    std::size_t oldest = 0;
    for (std::size_t k = 1; k < live_.size(); ++k)
      if (used_[static_cast<std::size_t>(live_[k])] < used_[static_cast<std::size_t>(live_[oldest])]) oldest = k;
    Tensor& old = tensors_[static_cast<std::size_t>(live_[oldest])];
    bytes_ -= old.data.size() * sizeof(double);
    old.data = std::vector<double>();
    old.packs.reset();
    used_[static_cast<std::size_t>(live_[oldest])] = 0;
    live_.erase(live_.begin() + static_cast<std::ptrdiff_t>(oldest));
  }
  t.shape = s.constant->shape;
  store_->expand(slot, t.data);
  t.packs = std::make_shared<OperandPacks>();  // a constant's: the GEMMs may keep binary32 copies
  bytes_ += bytes;
  live_.push_back(slot);
  return t;
}

ConstantCache& ConstantCaches::of(const std::shared_ptr<const ConstantStore>& store) {
  for (const auto& c : caches_)
    if (&c->store() == store.get()) return *c;
  caches_.push_back(std::make_unique<ConstantCache>(store));
  return *caches_.back();
}

std::shared_ptr<const StoredConstants> store_constants(const Plan& plan, const Arithmetic& a,
                                                       const std::shared_ptr<const ConstantStore>& exact) {
  auto s = std::make_shared<StoredConstants>();
  s->values = ConstantStore::rounded(plan, a);
  s->err = ConstantStore::rounding_error(s->values, exact);
  return s;
}

std::vector<Tensor> expand_all(const ConstantStore& store) {
  std::vector<Tensor> out(store.plan().slots().size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Slot& s = store.plan().slots()[i];
    if (!s.constant) continue;
    out[i].shape = s.constant->shape;
    store.expand(static_cast<int>(i), out[i].data);
    out[i].packs = std::make_shared<OperandPacks>();
  }
  return out;
}

}  // namespace fpaudit
