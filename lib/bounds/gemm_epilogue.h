// The epilogue of the dot-product rule (bounds/linear.h, theory/dot-product.md): one output row's
// bounds from its three sums (|a||b|, and the propagated errors with the deterministic and the
// probabilistic input bounds), its bias and the chain's roundings after the sum.
//
// Two forms of the same arithmetic: finish_row_scalar, every case (sum_error, then the epilogue
// of Theorem 2 and Corollary 3), and finish_row_chain, a chain's case (chain_epilogue) written
// as one loop of selects that the compiler vectorises (a Conv has an epilogue per output pixel,
// as costly as its short sums). tests/bounds/gemm_epilogue_test.cpp holds them equal bit for bit.
#pragma once

#include "bounds/linear.h"
#include "bounds/model.h"
#include "bounds/sum_constants.h"

namespace fpaudit::bounds {

/// What the epilogue of every output row of one call shares: copied by value, so that the
/// compiler sees that the row's stores cannot change it and hoists its tests out of the loop.
struct RowEpilogue {
  ArithmeticModel m;
  MatmulBound g;
  SumConstants constants;
};

/// The epilogue of one output row of N elements from its three sums and its bias's magnitude
/// and error bounds (zeros without one): writes the row's det and prob and each element's failure
/// probability (that of its probabilistic sum bound, 0 where it cannot fail). `alt`, when given,
/// is the signed-partial-sum bound of each element's sum (bounds/signed_sums.h), taken where it
/// is below Higham–Mary's; its failure probability is at most the one reported.
void finish_row_scalar(const RowEpilogue& a, long N, const double* row_S, const double* row_Ed, const double* row_Ep,
                       const double* cmag, const double* ced, const double* cep, const double* alt, double* det, double* prob,
                       double* failure);

/// Whether finish_row_chain computes a's epilogue: a chain's sums (not exact, not rounded once
/// more into storage), K ≥ 1 terms, no alpha/beta scaling. The references and Gemm's general
/// form take finish_row_scalar.
bool chain_epilogue(const RowEpilogue& a);

/// finish_row_scalar where chain_epilogue(a) holds, in AVX-512 or AVX2 lanes where the CPU has
/// them: the same bits. No argument array may overlap another.
void finish_row_chain(const RowEpilogue& a, long N, const double* row_S, const double* row_Ed, const double* row_Ep,
                      const double* cmag, const double* ced, const double* cep, const double* alt, double* det, double* prob,
                      double* failure);

}  // namespace fpaudit::bounds
