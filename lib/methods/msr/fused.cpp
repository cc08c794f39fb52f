#include "methods/msr/fused.hpp"

#include "linalg/gemm.hpp"
#include "methods/msr/ridge.hpp"
#include "util/parallel.hpp"

namespace symlearn::msr {

bool fused_supported(const msr::MetaModel& model, const InnerLoop& inner) {
  return (model.arch.kind == "msr-fc" || model.arch.kind == "maml-conv") && (inner.steps == 1 || model.arch.ridge());
}

namespace {
template <class S>
using MatOf = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using VecOf = Eigen::Matrix<S, Eigen::Dynamic, 1>;

// The m x n view of a column of length m*n (column-major unvec).
template <class S>
Eigen::Map<const MatOf<S>> unvec(const S* p, int m, int n) {
  return {p, m, n};
}
template <class S>
Eigen::Map<MatOf<S>> unvec(S* p, int m, int n) {
  return {p, m, n};
}

// maml-conv's W[j, j+t] = f[t] applied to the rows of x (N x n): N x m.
template <class S>
MatOf<S> conv(const MatOf<S>& x, const VecOf<S>& f, int m) {
  MatOf<S> p = f(0) * x.leftCols(m);
  for (Eigen::Index t = 1; t < f.size(); ++t) p += f(t) * x.middleCols(t, m);
  return p;
}

// Its adjoint in f: out[t] = sum_{r,j} r(r, j) x(r, j+t), i.e. U^T vec(r^T x).
template <class S>
VecOf<S> correlate(const MatOf<S>& r, const MatOf<S>& x, int taps) {
  VecOf<S> out(taps);
  for (int t = 0; t < taps; ++t) out(t) = r.cwiseProduct(x.middleCols(t, r.cols())).sum();
  return out;
}

// maml-conv through its structure: the products with the banded W cost
// N*m*s instead of N*m*n (the dense kernel below with U fixed would do the
// same arithmetic 20x slower). Same formulas, U = the one-hot band.
template <class S>
BatchResultOf<S> conv_fused_batch(const msr::MetaModel& model, const InnerLoop& inner, long count,
                             const std::function<tasks::EpisodeOf<S>(long)>& episode, int threads) {
  using Vec = VecOf<S>;
  const int m = model.arch.output_dim, s = model.arch.kernel;
  const int f_index = model.find("f0"), lr_index = model.inner_lr_of(f_index);
  const Vec f0 = model.params[f_index].value.col(0).cast<S>();
  Vec lr = Vec::Constant(s, static_cast<S>(model.arch.inner_lr));
  if (lr_index >= 0) {
    const Eigen::MatrixXd& l = model.params[lr_index].value;
    lr = l.size() == 1 ? Vec::Constant(s, static_cast<S>(l(0, 0))) : Vec(l.reshaped().cast<S>());
  }
  std::vector<double> losses(count);
  Eigen::MatrixXd dv(s, count), hg(s, count);  // per task: dLq/df0 and h o g
  parallel_for(count, threads, [&](long t) {
    const tasks::EpisodeOf<S> e = episode(t);
    const S cs = S(2) / (static_cast<S>(e.xs.rows()) * static_cast<S>(m));
    const S cq = S(2) / (static_cast<S>(e.xq.rows()) * static_cast<S>(m));
    const Vec g = cs * correlate<S>(conv<S>(e.xs, f0, m) - e.ys, e.xs, s);
    const Vec f = f0 - lr.cwiseProduct(g);
    const MatOf<S> rq = conv<S>(e.xq, f, m) - e.yq;
    losses[t] = static_cast<double>(rq.squaredNorm() * cq / S(2));
    const Vec h = cq * correlate<S>(rq, e.xq, s);
    Vec d = h;
    if (!inner.first_order) d -= cs * correlate<S>(conv<S>(e.xs, Vec(lr.cwiseProduct(h)), m), e.xs, s);
    dv.col(t) = d.template cast<double>();
    hg.col(t) = h.cwiseProduct(g).template cast<double>();
  });
  BatchResultOf<S> r;
  const double inv = 1.0 / static_cast<double>(count);
  for (double l : losses) r.mean_loss += l;  // in task order
  r.mean_loss *= inv;
  r.mean_grads.resize(model.params.size());
  r.mean_grads[f_index] = (dv.rowwise().sum() * inv).template cast<S>();
  if (lr_index >= 0) {
    const Eigen::VectorXd d = -hg.rowwise().sum() * inv;
    const Eigen::MatrixXd& l = model.params[lr_index].value;
    r.mean_grads[lr_index] =
        (l.size() == 1 ? Eigen::MatrixXd::Constant(1, 1, d.sum()) : Eigen::MatrixXd(d)).template cast<S>();
  }
  return r;
}
}  // namespace

template <class S>
BatchResultOf<S> msr_fused_batch(const msr::MetaModel& model, const InnerLoop& inner, long count,
                                 const std::function<tasks::EpisodeOf<S>(long)>& episode, int threads) {
  if (model.arch.kind == "maml-conv") return conv_fused_batch<S>(model, inner, count, episode, threads);
  if (model.arch.ridge()) return ridge_fused_batch<S>(model, count, episode, threads);
  using Mat = MatOf<S>;
  using Vec = VecOf<S>;
  const int m = model.arch.output_dim, n = model.arch.input_dim;
  const long mn = static_cast<long>(m) * n;
  const long B = count;
  const int v_index = model.find("v0");
  const Mat U = model.params[model.find("U")].value.cast<S>();
  const Vec v0 = model.params[v_index].value.col(0).cast<S>();  // k
  const int k = static_cast<int>(U.cols());
  const int lr_index = model.inner_lr_of(v_index);
  // The inner learning rate as a k-vector (constant, one learned scalar, or per entry).
  Vec lr = Vec::Constant(k, static_cast<S>(model.arch.inner_lr));
  if (lr_index >= 0) {
    const Eigen::MatrixXd& l = model.params[lr_index].value;
    lr = l.size() == 1 ? Vec::Constant(k, static_cast<S>(l(0, 0))) : Vec(l.reshaped().cast<S>());
  }
  const bool second = !inner.first_order;
  const Vec w0 = U * v0;  // every task starts from W0 = unvec(U v0)

  // Tasks are processed in fixed chunks whose partial sums are added in chunk
  // order, so the result does not depend on the thread count; a chunk is
  // small enough for its mn x chunk matrices to stay in cache.
  constexpr long kChunk = 16;
  const long chunks = (B + kChunk - 1) / kChunk;
  std::vector<Mat> dU_part(chunks, Mat::Zero(mn, k));
  std::vector<Vec> b_part(chunks, Vec::Zero(second ? mn : 0));
  Mat G(k, B), H(k, B);
  std::vector<double> losses(B);
  parallel_for(chunks, threads, [&](long ch) {
    const long first = ch * kChunk, C = std::min(B, first + kChunk) - first;
    // The chunk's tasks side by side: [Q | A] holds vec(Gq_t) and a_t, so that
    // U is read once per chunk by a matrix product instead of once per task.
    std::vector<tasks::EpisodeOf<S>> eps(C);
    for (long i = 0; i < C; ++i) eps[i] = episode(first + i);
    Mat QA(mn, 2 * C), VZ(k, 2 * C), Wp(mn, C);
    auto Q = QA.leftCols(C);
    auto A = QA.rightCols(C);
    for (long i = 0; i < C; ++i) {
      const auto& e = eps[i];
      const S cs = S(2) / (static_cast<S>(e.xs.rows()) * static_cast<S>(m));
      Mat rs = -e.ys;  // Ns x m
      linalg::gemm_into(rs, e.xs, unvec(w0.data(), m, n), false, true, S(1), S(1));
      linalg::gemm_into(unvec(A.col(i).data(), m, n), rs, e.xs, true, false, cs);
    }
    auto Gc = G.middleCols(first, C);
    linalg::gemm_into(Gc, U, A, true, false);                                  // g_t = U^T a_t
    VZ.leftCols(C) = v0.replicate(1, C) - lr.asDiagonal() * Gc;                // v'_t
    linalg::gemm_into(Wp, U, VZ.leftCols(C), false, false);                    // vec(W'_t)
    for (long i = 0; i < C; ++i) {
      const auto& e = eps[i];
      const S nq = static_cast<S>(e.xq.rows()) * static_cast<S>(m);
      Mat rq = -e.yq;  // Nq x m
      linalg::gemm_into(rq, e.xq, unvec(Wp.col(i).data(), m, n), false, true, S(1), S(1));
      losses[first + i] = static_cast<double>(rq.squaredNorm() / nq);
      linalg::gemm_into(unvec(Q.col(i).data(), m, n), rq, e.xq, true, false, S(2) / nq);
    }
    auto Hc = H.middleCols(first, C);
    linalg::gemm_into(Hc, U, Q, true, false);                                  // h_t = U^T vec(Gq_t)
    if (second) VZ.rightCols(C) = -(lr.asDiagonal() * Hc);                     // -z_t
    else VZ.rightCols(C).setZero();
    linalg::gemm_into(dU_part[ch], QA, VZ, false, true, S(1), S(1));          // sum vec(Gq) v'^T - a z^T
    if (second) {
      Mat UZ(mn, C);
      linalg::gemm_into(UZ, U, VZ.rightCols(C), false, false, S(-1));         // U z_t
      for (long i = 0; i < C; ++i) {
        const auto& e = eps[i];
        const S cs = S(2) / (static_cast<S>(e.xs.rows()) * static_cast<S>(m));
        Mat zx(m, e.xs.rows());
        linalg::gemm_into(zx, unvec(UZ.col(i).data(), m, n), e.xs, false, true);  // m x Ns
        linalg::gemm_into(unvec(b_part[ch].data(), m, n), zx, e.xs, false, false, cs, S(1));
      }
    }
  });

  // Sums in chunk and task order, in S: dU (mn x k) is the one large
  // gradient, and each pass over it in another precision cost a few percent.
  BatchResultOf<S> r;
  for (double l : losses) r.mean_loss += l;
  const double inv = 1.0 / static_cast<double>(B);
  r.mean_loss *= inv;
  Vec dv0 = H.rowwise().sum();
  Mat& dU = dU_part[0];
  for (long ch = 1; ch < chunks; ++ch) dU += dU_part[ch];
  if (second) {
    Vec& bsum = b_part[0];
    for (long ch = 1; ch < chunks; ++ch) bsum += b_part[ch];
    dU.noalias() -= bsum * v0.transpose();
    dv0.noalias() -= U.transpose() * bsum;
  }
  const S sinv = static_cast<S>(inv);
  r.mean_grads.resize(model.params.size());
  r.mean_grads[model.find("U")] = std::move(dU) * sinv;
  r.mean_grads[v_index] = dv0 * sinv;
  if (lr_index >= 0) {
    const Eigen::VectorXd hg =
        -(H.template cast<double>().cwiseProduct(G.template cast<double>())).rowwise().sum() * inv;  // k
    const Eigen::MatrixXd& l = model.params[lr_index].value;
    r.mean_grads[lr_index] =
        (l.size() == 1 ? Eigen::MatrixXd::Constant(1, 1, hg.sum()) : Eigen::MatrixXd(hg)).template cast<S>();
  }
  return r;
}

template BatchResultOf<float> msr_fused_batch<float>(const msr::MetaModel&, const InnerLoop&, long,
                                                     const std::function<tasks::EpisodeOf<float>(long)>&, int);
template BatchResultOf<double> msr_fused_batch<double>(const msr::MetaModel&, const InnerLoop&, long,
                                                       const std::function<tasks::EpisodeOf<double>(long)>&, int);

BatchResult msr_fused_batch(const msr::MetaModel& model, const InnerLoop& inner,
                            const std::vector<tasks::Episode>& eps, int threads, learn::Precision precision) {
  const long count = static_cast<long>(eps.size());
  if (precision == learn::Precision::float64)
    return msr_fused_batch<double>(model, inner, count, [&](long t) { return eps[t]; }, threads);
  const BatchResultOf<float> f = msr_fused_batch<float>(
      model, inner, count,
      [&](long t) {
        const auto& e = eps[t];
        return tasks::EpisodeOf<float>{e.xs.cast<float>(), e.ys.cast<float>(), e.xq.cast<float>(),
                                       e.yq.cast<float>()};
      },
      threads);
  BatchResult r;
  r.mean_loss = f.mean_loss;
  for (const auto& g : f.mean_grads) r.mean_grads.push_back(g.cast<double>());
  return r;
}

}  // namespace symlearn::msr
