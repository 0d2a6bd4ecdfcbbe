// Classification at the network output: top-1 per chain, the tolerance Γ (top-1 minus top-2
// logit of the reference, and of fp32), the drift δ (max-norm distance of a chain's logits from
// the reference's and from fp32's), and the lemma: Γ > 2δ guarantees the same class (Γ = 2δ
// allows a tie). theory/classification-lemma.md proves it.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "shadow/external_outputs.h"
#include "shadow/task_judge.h"

namespace fpaudit {

struct TopTwo {
  int top1 = -1;         ///< lowest index among the maxima (numpy's argmax)
  double margin = 0;     ///< top-1 minus top-2 value (0 for a tie; NaN if any value is NaN)
  bool tie = false;      ///< the two largest values are equal
};
TopTwo top_two(const double* logits, long n);

/// max_j |a_j - b_j| (Inf when either has a non-finite entry the other lacks).
double max_distance(const double* a, const double* b, long n);

/// The union bound on two failure probabilities a, b ≥ 0: a + b rounded up, capped at 1 (0 + 0
/// stays 0).
double probability_sum(double a, double b);

/// The observed certificate Γ > 2(δ + R) (theory/classification-lemma.md, "Floating-point
/// evaluation"): Γ = `margin` (the binary64 difference of the top two logits z_t - z_j) rounded
/// down, δ = `delta` (the largest binary64 |y_j - z_j|) and R = `reference_error` (a proved bound
/// on |z_j - z̄_j|, z̄ the exact network's logits) added and rounded up. True proves that the
/// chain (y) and the exact network (z̄) both have z's unique top class; with R = 0, that the chain
/// has z's class. NaN anywhere: false.
bool observed_certified(double margin, double delta, double reference_error);

/// Whether a sample's class is certified from bounds, deterministically and probabilistically.
struct Certified {
  bool det = false;   ///< from the deterministic bounds: certain
  bool prob = false;  ///< from the probabilistic bounds: holds with the stated probability
};

/// The margin-directed certificates of one chain on one sample (shadow/margin_certificate.h).
/// Bounds are on the observable |c·(ẑ − z_ref)| for the runner-up direction (B + R_t + R_j).
struct MarginVerdict {
  bool available = false;      ///< the model has a backward step for every layer
  Certified a_priori, a_posteriori;
  double drift = NAN;          ///< observed |c·(ẑ − z_ref)|, c = e_t − e_runner-up
  double bound_det = NAN, bound_prob = NAN;      ///< a posteriori
  double apriori_det = NAN, apriori_prob = NAN;  ///< a priori
  double failure = 0;          ///< probability that the a-posteriori probabilistic bound fails
  double apriori_failure = 0;  ///< ... the a-priori probabilistic bound
  long directions = 0;         ///< backward passes run
  long unstable = 0;           ///< ReLU units whose a-posteriori box straddles the kink
  long violations = 0;         ///< directions whose drift exceeded a deterministic bound: a bug
  long prob_exceeded = 0;      ///< directions whose drift exceeded a probabilistic bound
};

struct ChainVerdict {
  int top1 = -1;
  bool tie = false;
  double delta_ref = 0;    ///< δ against the reference logits
  double delta_fp32 = 0;   ///< δ against the fp32 chain's logits (NaN without an fp32 chain)
  int first_nonfinite_layer = -1;  ///< first layer whose output went NaN/Inf in this chain
  // Certificates (lib/shadow/certificate.h), all against the reference's top class:
  Certified a_priori;      ///< a-priori bounds: chain class = exact class = reference class
  Certified a_priori_all;  ///< the same for this chain and fp32 at once (class = fp32's = exact)
  Certified a_posteriori;  ///< the chain's own propagated bounds
  double a_priori_failure = 0;  ///< probability that the probabilistic a-priori bounds fail
  /// Probability that the probabilistic a-posteriori bounds at the logits fail: the union bound
  /// over every probabilistic event of every layer of the chain's run on this sample.
  double a_posteriori_failure = 0;
  double delta_bound = NAN;     ///< a-priori deterministic bound on δ (max over logits of E + R)
  MarginVerdict margin;         ///< the margin-directed certificates
};

struct SampleRecord {
  long index = 0;
  int label = -1;
  int ref_top1 = -1;
  double margin_ref = 0;    ///< Γ of the reference
  double ref_error = 0;     ///< R: the largest proved bound on the reference logits' own error
  int fp32_top1 = -1;       ///< top-1 of the fp32 chain (-1 without one)
  double margin_fp32 = 0;   ///< Γ of the fp32 chain (NaN without one)
  std::vector<ChainVerdict> chains;
  /// Per graph output, per chain: the output judged by its task (shadow/task.h).
  std::vector<std::vector<TaskSample>> tasks;
  /// Per --compare run: a real runtime's outputs on this sample (shadow/external_outputs.h).
  std::vector<ExternalSample> external;
};

/// Counts over samples for one chain.
struct ChainClassification {
  long correct = 0;             ///< top-1 equals the label
  long flips_vs_ref = 0;        ///< top-1 differs from the reference's
  long flips_vs_fp32 = 0;       ///< top-1 differs from fp32's
  long certified_vs_ref = 0;    ///< Γ_ref > 2δ_ref: the class provably equals the reference's
  long certified_vs_exact = 0;  ///< Γ_ref > 2(δ_ref + R): ... and the exact network's
  long certified_vs_fp32 = 0;   ///< Γ_fp32 > 2δ_fp32
  long boundary = 0;            ///< Γ_ref = 2δ_ref exactly: a tie is possible
  long ties = 0;                ///< the chain's own top two logits are equal
  long lemma_violations = 0;    ///< certified yet flipped: impossible unless fpaudit is wrong
  long nonfinite = 0;           ///< samples whose logits hold NaN or Inf
  long a_priori_det = 0, a_priori_prob = 0;          ///< samples certified a priori
  long a_priori_all_det = 0, a_priori_all_prob = 0;  ///< ... equal to fp32 and exact at once
  long a_posteriori_det = 0, a_posteriori_prob = 0;  ///< samples certified a posteriori
  long certificate_violations = 0;  ///< deterministically certified yet flipped: a bug
  long prob_certificate_failures = 0;  ///< probabilistically certified yet flipped
  double max_a_priori_failure = 0;  ///< largest failure probability of a probabilistic certificate
  double max_a_posteriori_failure = 0;  ///< the same for the a-posteriori certificate
  /// Per run: the union bound over the samples of their failure probabilities (capped at 1),
  /// the probability that any probabilistic certificate of the run fails.
  double run_a_priori_failure = 0, run_a_posteriori_failure = 0;
  // Margin-directed certificates (lib/margin), counted like the ones above.
  long margin_a_priori_det = 0, margin_a_priori_prob = 0;
  long margin_a_posteriori_det = 0, margin_a_posteriori_prob = 0;
  long margin_violations = 0;          ///< drift above a deterministic margin bound: a bug
  long margin_prob_exceeded = 0;       ///< drift above a probabilistic margin bound
  long margin_certificate_violations = 0;  ///< margin-certified (det) yet flipped: a bug
  double margin_max_failure = 0;       ///< largest failure probability of a probabilistic one

  void add(const SampleRecord& r, const ChainVerdict& v);
};

}  // namespace fpaudit
