// Certifying a classification from error bounds: the tolerance lemma with a radius per logit
// (theory/classification-lemma.md). Used three ways per chain and sample: a priori (the chain's
// bounds computed from the model and the input alone, lib/shadow/apriori.h), a posteriori (the
// chain's propagated bounds at its own values), and observed (the measured drift δ).
#pragma once

#include <vector>

#include "shadow/apriori.h"
#include "shadow/classify.h"

namespace fpaudit {

/// True iff z has a unique top class t and z_t - z_j > r_t + r_j for every j ≠ t. Then every y
/// with |y_j - z_j| ≤ r_j for all j has the unique top class t (and Γ = 2·max r allows a tie:
/// equality certifies nothing). NaN anywhere: false.
bool radius_certified(const double* z, const double* r, long n);

/// r_j = a_j + b_j, elementwise, rounded up (the radius around z of a value within a_j of a
/// value within b_j of z).
std::vector<double> radius_sum(const std::vector<double>& a, const std::vector<double>& b);

/// The a-priori certificates of one chain at an output slot whose reference logits are z with
/// reference bounds R: the chain alone (radius E + R) and, where the fp32 chain is audited too
/// (fp32 not null), the chain with fp32 (radius max(E, E_fp32) + R), deterministic and
/// probabilistic.
struct AprioriVerdict {
  Certified chain, with_fp32;
  /// Probability that the probabilistic bounds fail: the chain's, and fp32's where it is given.
  double failure = 0;
  double delta_bound = 0;  ///< max over logits of E + R: the a-priori bound on δ against the reference
};
AprioriVerdict certify_a_priori(const std::vector<double>& z, const std::vector<double>& R, const AprioriState& chain,
                                const AprioriState* fp32, int slot);

}  // namespace fpaudit
