#include "methods/msr/fused.hpp"

#include "methods/msr/fc_kernel.hpp"
#include "methods/msr/kron_kernel.hpp"
#include "util/parallel.hpp"

namespace symlearn::msr {

bool fused_supported(const msr::MetaModel& model, const InnerLoop& inner) {
  const std::string& kind = model.arch.kind;
  return kind == "msr-fc" || kind == "msr-kron" || (kind == "maml-conv" && inner.steps == 1);
}

double ridge_query_loss(const msr::MetaModel& model, const tasks::Episode& e) {
  return model.arch.kind == "msr-kron" ? kron_ridge_query_loss(model, e) : fc_ridge_query_loss(model, e);
}

namespace {
template <class S>
using MatOf = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using VecOf = Eigen::Matrix<S, Eigen::Dynamic, 1>;

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
  if (model.arch.kind == "msr-kron") return kron_fused_batch<S>(model, inner, count, episode, threads);
  return fc_fused_batch<S>(model, inner, count, episode, threads);
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
