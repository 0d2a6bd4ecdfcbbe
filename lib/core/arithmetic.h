// The arithmetic a chain evaluates a network in. Op kernels (lib/kernels/ops) are written once
// against this interface; each chain supplies an implementation:
//   ChainArithmetic   a storage format, an accumulation format and a DotSchedule
//                     (fp32, fp16, fp16-acc32, bf16, bf16-acc32, fp8-e4m3-acc32, ...)
//   ExactArithmetic   the reference: every operation exact, rounded once to binary64
//   MpfrArithmetic    the reference computed with MPFR at a chosen precision (cross-check)
// and each reports its own rounding model (rounding_model()), which the bound rules read.
//
// Values are binary64 numbers throughout; a chain's values are always representable in its
// storage format. Each elementwise operation rounds its exact result once, into the storage
// format (Target::Storage) or, for the intermediates of composite ops such as softmax and
// normalisation, into the accumulation format (Target::Accumulator).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "format/format.h"
#include "core/operand_packs.h"
#include "core/rounding_model.h"
#include "core/schedule.h"

namespace fpaudit {

struct Node;
class MixedArithmetic;

enum class Target : std::uint8_t { Storage, Accumulator };

/// The elementwise operations of two arguments that Arithmetic::binary runs along a row.
enum class BinaryOp : std::uint8_t { Add, Sub, Mul, Div };

/// Elementwise functions of one argument; each is evaluated exactly (in effect) and rounded once.
enum class UnaryFn : std::uint8_t { Exp, Log, Tanh, Sigmoid, Erf, Gelu, Sqrt, Reciprocal, Rsqrt };
std::string_view unary_fn_name(UnaryFn f);

/// Y[m][n] = round(bias[m] + Σ_k W[m][k]·X[k][n]): the product of an M×K matrix W and a K×N
/// matrix X, each read through strides (element (i, j) of W is W[i·ldw + j·w_step]), so
/// transposed operands need no copy. Every output is a dot product of length K summed by the
/// chain's schedule in its accumulation format; the bias is added to the finished sum in the
/// accumulation format, and the result rounded to storage. bias may be null. A constant operand
/// (weights) comes with its tensor's OperandPacks, where chains keep its binary32 conversion.
struct GemmArgs {
  long M = 0, N = 0, K = 0;
  const double* W = nullptr;
  long ldw = 0;
  const double* X = nullptr;
  long ldx = 0;
  const double* bias = nullptr;
  double* Y = nullptr;
  long ldy = 0;
  /// false: leave Y in the accumulation format (for ops that scale the sum before rounding).
  bool round_to_storage = true;
  long w_step = 1, x_step = 1;
  OperandPacks* w_packs = nullptr;
  OperandPacks* x_packs = nullptr;
  /// Two layouts for an arithmetic whose gemm_batch_layouts(), which a convolution over a batch
  /// uses to skip two copies:
  /// - X32: X as binary32 (element (i, j) at X32[i·ldx + j·x_step], static_cast<float> of X's),
  ///   in place of X: the im2col matrix written once at the width the kernel reads;
  /// - Y_blocks: Y in blocks of y_block columns, in place of Y: element (m, n) at
  ///   Y_blocks[n / y_block][m·ldy + n % y_block], each image's output in its own tensor.
  const float* X32 = nullptr;
  double* const* Y_blocks = nullptr;
  long y_block = 0;
  double* y_row(long m, long n) const { return Y_blocks ? Y_blocks[n / y_block] + m * ldy + n % y_block : Y + m * ldy + n; }
  double w_at(long i, long j) const { return W[i * ldw + j * w_step]; }
  double x_at(long i, long j) const { return X[i * ldx + j * x_step]; }
};

class Arithmetic {
 public:
  virtual ~Arithmetic() = default;

  virtual std::string_view name() const = 0;
  /// Storage format (binary64 for the references).
  virtual const Format& storage() const = 0;
  /// Accumulation format of sums and dot products.
  virtual const Format& accumulator() const = 0;
  virtual DotSchedule schedule() const = 0;
  /// True for the references, whose results the others are measured against.
  virtual bool is_reference() const { return false; }
  /// How this arithmetic rounds, as the bound rules read it (lib/core/rounding_model.h).
  virtual bounds::ArithmeticModel rounding_model() const = 0;

  /// Rounds an exact value into the target format.
  virtual double round(double exact, Target t = Target::Storage) const = 0;
  /// Rounds every element into storage, in place (bulk, vectorised where possible).
  virtual void round_storage(std::span<double> values) const;

  // Elementwise operations on arbitrary binary64 operands, one rounding each.
  virtual double add(double a, double b, Target t = Target::Storage) const = 0;
  virtual double sub(double a, double b, Target t = Target::Storage) const = 0;
  virtual double mul(double a, double b, Target t = Target::Storage) const = 0;
  virtual double div(double a, double b, Target t = Target::Storage) const = 0;
  /// a·b + c with one rounding.
  virtual double fma(double a, double b, double c, Target t = Target::Storage) const = 0;
  virtual double unary(UnaryFn f, double x, Target t = Target::Storage) const = 0;
  /// y[i] = fma(x[i], scale, shift) into storage for i < n (BatchNormalization's folded form):
  /// the same values as that loop, vectorised where a chain can. x and y may be one array.
  virtual void fma_scaled(const double* x, double scale, double shift, double* y, long n) const;
  /// y[i] = add/sub/mul(x[i·incx], w[i·incw]) into storage for i < n (elementwise Add, Sub and Mul
  /// along a row of their broadcast): the same values as those calls, vectorised where a chain
  /// can (increments 0 and 1). y may be x or w when its increment is 1.
  virtual void binary(BinaryOp op, const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, double* y,
                      long n) const;
  /// x^e for a constant exponent e.
  virtual double pow(double x, double e, Target t = Target::Storage) const = 0;

  /// Σ x[i·inc] for i < n in the accumulation format, summed by the schedule.
  virtual double sum(const double* x, std::ptrdiff_t inc, long n) const = 0;
  /// Σ x[i·incx]·w[i·incw] in the accumulation format, summed by the schedule.
  virtual double dot(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n) const = 0;
  /// See GemmArgs. The default evaluates each output with dot(); chains override it with
  /// vectorised kernels that give the same bits.
  virtual void gemm(const GemmArgs& g) const;
  /// True when gemm() accepts GemmArgs::X32 (with X null) and Y_blocks (with Y null).
  virtual bool gemm_batch_layouts() const { return false; }

  /// A mixed chain (core/mixed_arithmetic.h) evaluates some nodes in another arithmetic; every
  /// other arithmetic evaluates every node itself (null).
  virtual const MixedArithmetic* mixed() const { return nullptr; }
};

/// A named chain: how a network is evaluated. Chains are data; "--chains fp16,bf16-acc32" picks
/// named ones and "fp16@pairwise-8" changes a chain's schedule.
struct ChainSpec {
  std::string name;
  Format storage;
  Format accumulator;
  DotSchedule schedule;
  /// A mixed chain, "fp16+fp32:LayerNormalization,/head/Gemm": the nodes that `keep` selects
  /// (by operator type or exact node name) run in `kept`'s arithmetic, every other node in the
  /// one above (theory/mixed-chains.md). Null for a plain chain.
  std::shared_ptr<const ChainSpec> kept;
  std::vector<std::string> keep;
  /// What the selectors matched in the model ("3 nodes (LayerNormalization x2, /head/Gemm)"),
  /// set by resolve_kept; empty until then.
  std::string kept_summary;

  /// Whether this chain runs `node` in the kept arithmetic (false for a plain chain).
  bool keeps(const Node& node) const;
};

/// fp32, fp16, fp16-acc32, bf16, bf16-acc32, fp8-e4m3-acc32, fp8-e5m2-acc32.
std::span<const ChainSpec> named_chains();
/// Parses "NAME", "NAME@SCHEDULE", or a mixed chain "CHAIN+CHAIN:SELECTOR,SELECTOR,..." (the
/// second chain kept for the selected nodes); throws std::invalid_argument naming what is wrong.
ChainSpec parse_chain(std::string_view text);
/// Parses a comma-separated list of chains. A mixed chain's selectors are comma-separated too:
/// an item that does not start a chain continues the selectors of the mixed chain before it
/// ("fp16+fp32:Softmax,Gemm,bf16" is two chains). Throws std::invalid_argument (also for a chain
/// listed twice or an empty list).
std::vector<ChainSpec> parse_chain_list(std::string_view text);
/// A mixed chain of `base` keeping `nodes` (node names or operator types) in `kept`, named
/// "BASE+KEPT:NODE,NODE,...".
ChainSpec mixed_chain(const ChainSpec& base, const ChainSpec& kept, const std::vector<std::string>& nodes);
/// Whether two chains hold every value in the same format (same storage; for mixed chains the
/// same kept storage and selectors): they can share rounded constants and rounded inputs.
bool same_storage(const ChainSpec& a, const ChainSpec& b);

std::unique_ptr<Arithmetic> make_chain_arithmetic(const ChainSpec& spec);

}  // namespace fpaudit
