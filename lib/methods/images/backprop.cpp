#include "methods/images/backprop.hpp"

#include "linalg/gemm.hpp"

#include <cmath>

namespace symlearn::images {

using Eigen::Index;

namespace {

template <class S>
using Map = Eigen::Map<MatOf<S>>;
template <class S>
using ConstMap = Eigen::Map<const MatOf<S>>;

bool is_conv_kind(const std::string& kind) { return kind == "lconv" || kind == "lconv-random" || kind == "cnn"; }

// What a layer's backward pass needs from its forward pass. A conv-type layer
// (lconv or cnn) maps a (HW x B*C, column b + B*c) through
//   z = [T_0 | ... | T_n]  (HW*B x (n+1)*C),  T_i = reshape(L_i a)
//   y = relu(z W + b)      (HW*B x F), which read as HW x B*F is the next a;
// the last one computes y transposed (F x HW*B), which read as F*HW x B is
// the classifier's input transposed (feature f + F*p): no transpose is ever
// copied. A dense layer maps in (B x d) to y = relu(in W + b).
// An L-conv layer with many input channels sums the other way round
// (`grouped`, see lconv_grouped_forward): z then holds the G_i instead.
template <class S>
struct LayerCache {
  MatOf<S> a;   // conv: input; dense: input
  MatOf<S> va;  // lconv: V a (n*d_h x B*C)
  MatOf<S> z;   // conv: the stacked T_i; grouped lconv: the stacked G_i (n*d_h x B*F)
  MatOf<S> y;   // output after relu (conv: transposed when it is the last layer)
  bool transposed = false;
  bool grouped = false;
};

template <class S>
struct Pass {
  std::vector<LayerCache<S>> layers;
  // The input of the dense classifier (B x features, or its transpose): its
  // own matrix, or a view of the last conv layer's output (no copy).
  MatOf<S> feat_own;
  const S* feat_data = nullptr;
  Index feat_rows = 0, feat_cols = 0;
  bool feat_transposed = false;
  MatOf<S> logits;  // B x classes
  ConstMap<S> feat() const { return {feat_data, feat_rows, feat_cols}; }
};

// y = relu(y + b) in one pass; b (1 x F) is added to every row of y, or to
// every column when y is transposed (F x rows).
template <class S>
void bias_relu(MatOf<S>& y, const MatOf<S>& b, bool transposed) {
  const Index rows = y.rows(), cols = y.cols();
  const S* bias = b.data();
  for (Index j = 0; j < cols; ++j) {
    S* col = y.data() + j * rows;
    if (transposed) {
      for (Index i = 0; i < rows; ++i) col[i] = std::max(col[i] + bias[i], S(0));
    } else {
      const S bj = bias[j];
      for (Index i = 0; i < rows; ++i) col[i] = std::max(col[i] + bj, S(0));
    }
  }
}

// The relu's derivative and the bias gradient in one pass: dy *= (y > 0)
// (plain loops: the compiler vectorises them, Eigen's select did not), and
// returns the sums of dy over the rows it was added to (1 x F).
template <class S>
MatOf<S> relu_backward_bias(MatOf<S>& dy, const MatOf<S>& y, bool transposed) {
  const Index rows = dy.rows(), cols = dy.cols();
  MatOf<S> g = MatOf<S>::Zero(1, transposed ? rows : cols);
  S* acc = g.data();
  for (Index j = 0; j < cols; ++j) {
    S* d = dy.data() + j * rows;
    const S* v = y.data() + j * rows;
    if (transposed) {
      for (Index i = 0; i < rows; ++i) {
        d[i] = v[i] > S(0) ? d[i] : S(0);
        acc[i] += d[i];
      }
    } else {
      S sum = 0;
      for (Index i = 0; i < rows; ++i) {
        d[i] = v[i] > S(0) ? d[i] : S(0);
        sum += d[i];
      }
      acc[j] = sum;
    }
  }
  return g;
}

// The 3x3 convolution's shifts by row segments instead of per-pixel indices:
// pixel (r, c) of a shifted image is pixel (r + dy, c + dx) of the original,
// zero outside (conv_offsets' convention, shift_index's map). For image row
// r, source row r + dy; in it the columns [c0, c1) have a source.
struct ShiftRows {
  int height, width, dy, dx, c0, c1;
  ShiftRows(int h, int w, int dy_, int dx_)
      : height(h), width(w), dy(dy_), dx(dx_), c0(std::max(0, -dx_)), c1(std::min(w, w - dx_)) {}
  bool has_source(int r) const { return r + dy >= 0 && r + dy < height && c0 < c1; }
  Index source(int r) const { return Index(r + dy) * width + dx; }  // add c for column c
};

// dst (HW x cols) = src's columns shifted.
template <class S>
void shift_columns(const S* src, S* dst, Index cols, const ShiftRows& sh) {
  const Index hw = Index(sh.height) * sh.width;
  for (Index col = 0; col < cols; ++col)
    for (int r = 0; r < sh.height; ++r) {
      S* out = dst + col * hw + Index(r) * sh.width;
      if (!sh.has_source(r)) {
        std::fill(out, out + sh.width, S(0));
        continue;
      }
      const S* in = src + col * hw + sh.source(r);
      std::fill(out, out + sh.c0, S(0));
      std::copy(in + sh.c0, in + sh.c1, out + sh.c0);
      std::fill(out + sh.c1, out + sh.width, S(0));
    }
}

// The adjoint: grad's pixels added into `into` at their source positions.
template <class S>
void unshift_add(const S* grad, S* into, Index cols, const ShiftRows& sh) {
  const Index hw = Index(sh.height) * sh.width;
  for (Index col = 0; col < cols; ++col)
    for (int r = 0; r < sh.height; ++r) {
      if (!sh.has_source(r)) continue;
      const S* g = grad + col * hw + Index(r) * sh.width;
      S* to = into + col * hw + sh.source(r);
      for (int c = sh.c0; c < sh.c1; ++c) to[c] += g[c];
    }
}

// The grouped order. V_i A (d_h x B*C, column b + B*c) read as (d_h*B x C)
// times W^i (C x F) is G_i read as (d_h x B*F), column b + B*f; U G
// (HW x B*F) read as (HW*B x F) is the layer's output before the bias, as A
// read as (HW*B x C) times W^0 is. So: n small products and two large ones.
template <class S>
void lconv_grouped_forward(const ImageArch& arch, const std::vector<MatOf<S>>& p, std::size_t t, Index batch,
                           bool transposed, LayerCache<S>& c) {
  const MatOf<S>& a = c.a;
  const MatOf<S>&u = p[t], &v = p[t + 1], &w = p[t + 2];
  const Index hw = a.rows(), bc = a.cols(), ch = bc / batch, n = arch.generators, dh = u.cols() / n, f = w.cols();
  c.va.resize(v.rows(), bc);
  linalg::gemm_into(c.va, v, a, false, false);
  c.z.resize(n * dh, batch * f);
  MatOf<S> vai(dh, bc), gi(dh, batch * f);  // contiguous, for the reinterpreting views
  for (Index i = 0; i < n; ++i) {
    vai = c.va.middleRows(i * dh, dh);
    linalg::gemm_into(Map<S>(gi.data(), dh * batch, f), ConstMap<S>(vai.data(), dh * batch, ch),
                      w.middleRows((i + 1) * ch, ch), false, false);
    c.z.middleRows(i * dh, dh) = gi;
  }
  MatOf<S> y(hw * batch, f);
  linalg::gemm_into(Map<S>(y.data(), hw, batch * f), u, c.z, false, false);
  linalg::gemm_into(y, ConstMap<S>(a.data(), hw * batch, ch), w.topRows(ch), false, false, S(1), S(1));
  const MatOf<S>& b = p[t + 3];
  c.transposed = transposed;
  if (transposed) {
    c.y.resize(f, hw * batch);
    linalg::transpose_into(c.y, y);
  } else {
    c.y = std::move(y);
  }
  bias_relu(c.y, b, transposed);
}

// Its backward pass from dy (the relu's derivative applied, laid out like c.y).
template <class S>
void lconv_grouped_backward(const ImageArch& arch, const std::vector<MatOf<S>>& p, const std::vector<bool>& trainable,
                            std::size_t t, const LayerCache<S>& c, const MatOf<S>& dy, std::vector<MatOf<S>>& g,
                            bool need_input, MatOf<S>* da) {
  const MatOf<S>&u = p[t], &v = p[t + 1], &w = p[t + 2];
  const Index hw = c.a.rows(), bc = c.a.cols(), n = arch.generators, dh = u.cols() / n, f = w.cols();
  const Index batch = c.z.cols() / f, ch = bc / batch;
  MatOf<S> dyt;  // dy as (HW*B x F)
  if (c.transposed) {
    dyt.resize(hw * batch, f);
    linalg::transpose_into(dyt, dy);
  }
  const MatOf<S>& d = c.transposed ? dyt : dy;
  const ConstMap<S> a_rows(c.a.data(), hw * batch, ch);  // A read as (HW*B x C)
  MatOf<S>& gw = g[t + 2];
  gw.resize(w.rows(), w.cols());
  linalg::gemm_into(gw.topRows(ch), a_rows, d, true, false);  // dW^0 = A^T dy
  MatOf<S> dg(n * dh, batch * f);                              // dG = U^T dy
  linalg::gemm_into(dg, u, ConstMap<S>(d.data(), hw, batch * f), true, false);
  const bool generators = trainable[t];
  if (generators) {
    g[t].resize(u.rows(), u.cols());  // dU = dy G^T
    linalg::gemm_into(g[t], ConstMap<S>(d.data(), hw, batch * f), c.z, false, true);
  }
  const bool need_dva = generators || need_input;
  MatOf<S> dva(need_dva ? v.rows() : 0, bc), vai(dh, bc), dgi(dh, batch * f), dvai(dh, bc);
  for (Index i = 0; i < n; ++i) {
    vai = c.va.middleRows(i * dh, dh);
    dgi = dg.middleRows(i * dh, dh);
    const ConstMap<S> dgi_rows(dgi.data(), dh * batch, f);
    linalg::gemm_into(gw.middleRows((i + 1) * ch, ch), ConstMap<S>(vai.data(), dh * batch, ch), dgi_rows, true,
                      false);  // dW^i = (V_i A)^T dG_i
    if (!need_dva) continue;
    linalg::gemm_into(Map<S>(dvai.data(), dh * batch, ch), dgi_rows, w.middleRows((i + 1) * ch, ch), false, true);
    dva.middleRows(i * dh, dh) = dvai;
  }
  if (generators) {
    g[t + 1].resize(v.rows(), v.cols());  // dV = dva A^T
    linalg::gemm_into(g[t + 1], dva, c.a, false, true);
  }
  if (need_input) {
    da->resize(hw, bc);  // dA = dy W^0^T (read as HW*B x C) + V^T dva
    linalg::gemm_into(Map<S>(da->data(), hw * batch, ch), d, w.topRows(ch), false, true);
    linalg::gemm_into(*da, v, dva, true, false, S(1), S(1));
  }
}

template <class S>
void conv_forward(const ImageArch& arch, const std::vector<MatOf<S>>& p, std::size_t t, Index batch, bool transposed,
                  LayerCache<S>& c) {
  if (c.grouped) {
    lconv_grouped_forward(arch, p, t, batch, transposed, c);
    return;
  }
  const MatOf<S>& a = c.a;
  const Index hw = a.rows(), bc = a.cols();
  const MatOf<S>& w = p[t + (arch.kind == "cnn" ? 0 : 2)];
  const Index blocks = w.rows() / (bc / batch);  // n+1 generators, or 9 shifts
  c.z.resize(hw * batch, w.rows());
  auto block = [&](Index i) { return Map<S>(c.z.data() + i * hw * bc, hw, bc); };
  if (arch.kind == "cnn") {
    const auto offsets = conv_offsets();
    for (Index i = 0; i < blocks; ++i)
      shift_columns<S>(a.data(), block(i).data(), bc,
                       ShiftRows(arch.height, arch.width, offsets[i].first, offsets[i].second));
  } else {
    const MatOf<S>& u = p[t];
    const MatOf<S>& v = p[t + 1];
    const Index dh = u.cols() / arch.generators;
    c.va.resize(v.rows(), bc);
    linalg::gemm_into(c.va, v, a, false, false);
    block(0) = a;
    for (Index i = 0; i < arch.generators; ++i)
      linalg::gemm_into(block(i + 1), u.middleCols(i * dh, dh), c.va.middleRows(i * dh, dh), false, false);
  }
  const MatOf<S>& b = p[t + (arch.kind == "cnn" ? 1 : 3)];
  c.transposed = transposed;
  if (transposed) {
    c.y.resize(w.cols(), hw * batch);
    linalg::gemm_into(c.y, w, c.z, true, true);
  } else {
    c.y.resize(hw * batch, w.cols());
    linalg::gemm_into(c.y, c.z, w, false, false);
  }
  bias_relu(c.y, b, transposed);
}

// Backward through a conv-type layer: dy (gradient of the relu output, laid
// out like c.y, overwritten) -> parameter gradients into g, and the gradient of
// its input when `need_input`.
template <class S>
void conv_backward(const ImageArch& arch, const std::vector<MatOf<S>>& p, const std::vector<bool>& trainable,
                   std::size_t t, const LayerCache<S>& c, MatOf<S>& dy, std::vector<MatOf<S>>& g,
                   bool need_input, MatOf<S>* da) {
  const bool cnn = arch.kind == "cnn";
  const std::size_t wi = t + (cnn ? 0 : 2), bi = wi + 1;
  const Index hw = c.a.rows(), bc = c.a.cols();
  g[bi] = relu_backward_bias(dy, c.y, c.transposed);
  if (c.grouped) {
    lconv_grouped_backward(arch, p, trainable, t, c, dy, g, need_input, da);
    return;
  }
  g[wi].resize(p[wi].rows(), p[wi].cols());
  linalg::gemm_into(g[wi], c.z, dy, true, c.transposed);
  const bool generators = !cnn && trainable[t];
  if (!need_input && !generators) return;
  MatOf<S> dz(c.z.rows(), c.z.cols());
  linalg::gemm_into(dz, dy, p[wi], c.transposed, true);
  auto block = [&](Index i) { return ConstMap<S>(dz.data() + i * hw * bc, hw, bc); };
  if (cnn) {
    da->setZero(hw, bc);
    const auto offsets = conv_offsets();
    for (Index i = 0; i < static_cast<Index>(offsets.size()); ++i)
      unshift_add<S>(block(i).data(), da->data(), bc,
                     ShiftRows(arch.height, arch.width, offsets[i].first, offsets[i].second));
    return;
  }
  const MatOf<S>& u = p[t];
  const MatOf<S>& v = p[t + 1];
  const Index dh = u.cols() / arch.generators;
  MatOf<S> dva(v.rows(), bc);
  if (generators) g[t].resize(u.rows(), u.cols());
  for (Index i = 0; i < arch.generators; ++i) {
    const ConstMap<S> di = block(i + 1);
    if (generators) linalg::gemm_into(g[t].middleCols(i * dh, dh), di, c.va.middleRows(i * dh, dh), false, true);
    linalg::gemm_into(dva.middleRows(i * dh, dh), u.middleCols(i * dh, dh), di, true, false);
  }
  if (generators) {
    g[t + 1].resize(v.rows(), v.cols());
    linalg::gemm_into(g[t + 1], dva, c.a, false, true);
  }
  if (need_input) {
    *da = block(0);
    linalg::gemm_into(*da, v, dva, true, false, S(1), S(1));
  }
}

template <class S>
Pass<S> forward(const Weights<S>& w, const MatOf<S>& x) {
  const ImageArch& arch = w.model->arch;
  const auto& p = w.p;
  const Index batch = x.rows();
  const Index hw = arch.pixels();
  Pass<S> pass;
  std::size_t t = 0;
  if (is_conv_kind(arch.kind)) {
    // x (B x HW*C, channels last) -> a (HW x B*C): x viewed as (B*C) x HW, transposed.
    MatOf<S> a = ConstMap<S>(x.data(), batch * arch.channels, hw).transpose();
    for (int l = 0; l < arch.layers; ++l) {
      LayerCache<S>& c = pass.layers.emplace_back();
      c.a = std::move(a);
      c.grouped = arch.kind != "cnn" && lconv_grouped(arch, c.a.cols() / batch, w.lconv_order);
      const bool last = l + 1 == arch.layers;
      conv_forward(arch, p, t, batch, last, c);
      t += arch.kind == "cnn" ? 2 : 4;
      if (!last) a = ConstMap<S>(c.y.data(), hw, c.y.size() / hw);
    }
    // The last y (F x HW*B) read as F*HW x B: the features transposed
    // (feature f + F*p); a valid convolution keeps the interior pixels' blocks.
    const MatOf<S>& y = pass.layers.back().y;
    pass.feat_data = y.data();
    pass.feat_rows = y.size() / batch;
    pass.feat_cols = batch;
    pass.feat_transposed = true;
    if (arch.padding == "valid") {
      const ConstMap<S> all(y.data(), y.size() / batch, batch);
      const Index f = y.rows();
      const std::vector<Index> keep = interior_pixels(arch.height, arch.width);
      pass.feat_own.resize(f * Index(keep.size()), batch);
      for (std::size_t k = 0; k < keep.size(); ++k) pass.feat_own.middleRows(f * Index(k), f) = all.middleRows(f * keep[k], f);
      pass.feat_data = pass.feat_own.data();
      pass.feat_rows = pass.feat_own.rows();
    }
  } else {
    MatOf<S> in = x;
    const int dense_layers = static_cast<int>(p.size() / 2) - 1;
    for (int l = 0; l < dense_layers; ++l) {
      LayerCache<S>& c = pass.layers.emplace_back();
      c.a = std::move(in);
      c.y.resize(batch, p[t].cols());
      linalg::gemm_into(c.y, c.a, p[t], false, false);
      bias_relu(c.y, p[t + 1], false);
      in = c.y;
      t += 2;
    }
    pass.feat_own = std::move(in);
    pass.feat_data = pass.feat_own.data();
    pass.feat_rows = pass.feat_own.rows();
    pass.feat_cols = pass.feat_own.cols();
  }
  pass.logits.resize(batch, p[t].cols());
  linalg::gemm_into(pass.logits, pass.feat(), p[t], pass.feat_transposed, false);
  pass.logits.rowwise() += p[t + 1].row(0);
  return pass;
}

}  // namespace

// Which way an L-conv layer sums  y = sum_i L_i A W^i  (L_0 = I, L_i = U_i V_i):
//   per generator: T_i = U_i (V_i A), then [T_0 | ... | T_n] W  (the paper's
//     order; (n+1) C F multiply-adds per pixel and image);
//   grouped: G_i = (V_i A) W^i (d_h x F per image), then U [G_1; ...; G_n] + A W^0
//     (n d_h F + C F per pixel and image).
// Multiply-add counts per image as the PyTorch peer's `auto` counts them: the
// grouped order wins once C is large (a second layer's C = F = 32: 4x fewer).
bool lconv_grouped(const ImageArch& arch, Index channels, LconvOrder order) {
  if (order != LconvOrder::automatic) return order == LconvOrder::grouped;
  const double hw = arch.pixels(), n = arch.generators, d = arch.rank, c = double(channels), f = arch.filters;
  const double per_generator = n * d * hw * c + n * hw * d * c + hw * (n + 1) * c * f;
  const double grouped = n * d * hw * c + n * d * c * f + hw * n * d * f + hw * c * f;
  return grouped < per_generator;
}

template <class S>
Weights<S>::Weights(const ImageModel& m) : model(&m) {
  for (const auto& q : m.params) p.push_back(q.value.cast<S>());
}

template <class S>
MatOf<S> forward_logits(const Weights<S>& w, const MatOf<S>& x) {
  return forward(w, x).logits;
}

template <class S>
SliceResult<S> backprop_slice(const Weights<S>& w, const MatOf<S>& x, const std::vector<int>& labels, double weight) {
  const ImageModel& model = *w.model;
  const ImageArch& arch = model.arch;
  const auto& p = w.p;
  Pass<S> pass = forward(w, x);
  const Index batch = x.rows(), classes = pass.logits.cols();
  SliceResult<S> r;

  // Mean cross-entropy and its gradient (softmax - onehot) * weight / B.
  MatOf<S> dlogits(batch, classes);
  double loss = 0;
  const S scale = static_cast<S>(weight / static_cast<double>(batch));
  for (Index i = 0; i < batch; ++i) {
    const auto row = pass.logits.row(i);
    Index best;
    const S mx = row.maxCoeff(&best);
    const int y = labels[static_cast<std::size_t>(i)];
    r.correct += best == y;
    const auto e = (row.array() - mx).exp();
    const S sum = e.sum();
    loss += static_cast<double>(mx + std::log(sum) - row(y));
    dlogits.row(i) = e / sum * scale;
    dlogits(i, y) -= scale;
  }
  r.loss = loss * weight / static_cast<double>(batch);

  std::vector<bool> trainable;
  for (const auto& q : model.params) trainable.push_back(q.trainable);
  std::vector<MatOf<S>> g(p.size());
  const std::size_t head = p.size() - 2;
  g[head].resize(p[head].rows(), p[head].cols());
  g[head + 1] = dlogits.colwise().sum();
  MatOf<S> dfeat;  // laid out like pass.feat
  if (pass.feat_transposed) {
    linalg::gemm_into(g[head], pass.feat(), dlogits, false, false);
    dfeat.resize(p[head].rows(), batch);
    linalg::gemm_into(dfeat, p[head], dlogits, false, true);
  } else {
    linalg::gemm_into(g[head], pass.feat(), dlogits, true, false);
    dfeat.resize(batch, p[head].rows());
    linalg::gemm_into(dfeat, dlogits, p[head], false, true);
  }

  const int layers = static_cast<int>(pass.layers.size());
  if (is_conv_kind(arch.kind)) {
    const std::size_t per = arch.kind == "cnn" ? 2 : 4;
    if (arch.padding == "valid") {  // the dropped border pixels get no gradient
      const Index f = pass.layers.back().y.rows();
      const std::vector<Index> keep = interior_pixels(arch.height, arch.width);
      MatOf<S> full = MatOf<S>::Zero(pass.layers.back().y.size() / batch, batch);
      for (std::size_t k = 0; k < keep.size(); ++k) full.middleRows(f * keep[k], f) = dfeat.middleRows(f * Index(k), f);
      dfeat = std::move(full);
    }
    MatOf<S> dy = std::move(dfeat);  // F*HW x B: the last y's layout, F x HW*B
    for (int l = layers - 1; l >= 0; --l) {
      const LayerCache<S>& c = pass.layers[static_cast<std::size_t>(l)];
      dy.resize(c.y.rows(), c.y.cols());  // same size: a new shape, the data kept
      MatOf<S> da;
      conv_backward(arch, p, trainable, per * static_cast<std::size_t>(l), c, dy, g, l > 0, &da);
      dy = std::move(da);
    }
  } else {
    MatOf<S> dy = std::move(dfeat);
    for (int l = layers - 1; l >= 0; --l) {
      const LayerCache<S>& c = pass.layers[static_cast<std::size_t>(l)];
      const std::size_t t = 2 * static_cast<std::size_t>(l);
      g[t + 1] = relu_backward_bias(dy, c.y, false);
      g[t].resize(p[t].rows(), p[t].cols());
      linalg::gemm_into(g[t], c.a, dy, true, false);
      if (l > 0) {
        MatOf<S> din(batch, p[t].rows());
        linalg::gemm_into(din, dy, p[t], false, true);
        dy = std::move(din);
      }
    }
  }
  for (std::size_t i = 0; i < p.size(); ++i)
    if (trainable[i]) r.grads.push_back(std::move(g[i]));
  return r;
}

template struct Weights<float>;
template struct Weights<double>;
template SliceResult<float> backprop_slice<float>(const Weights<float>&, const MatOf<float>&, const std::vector<int>&,
                                                  double);
template SliceResult<double> backprop_slice<double>(const Weights<double>&, const MatOf<double>&, const std::vector<int>&,
                                            double);
template MatOf<float> forward_logits<float>(const Weights<float>&, const MatOf<float>&);
template MatOf<double> forward_logits<double>(const Weights<double>&, const MatOf<double>&);

}  // namespace symlearn::images
