#include "guided.h"

#include "parallel.h"
#include "scale.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace flagmask {
namespace {

// Isolated: the images are often views into larger workspaces, whose pixels beyond the view are
// stale and must not be read as the border.
void boxMean(const cv::Mat &m, cv::Mat &out, int radius) {
  cv::boxFilter(m, out, CV_32F, cv::Size(2 * radius + 1, 2 * radius + 1), cv::Point(-1, -1), true,
                cv::BORDER_REFLECT | cv::BORDER_ISOLATED);
}

// src reduced by two in each direction into dst (ceil(cols / 2) x ceil(rows / 2)): each pixel the
// mean of its 2x2 block, a last odd column or row the mean of its pairs. OpenCV's area reduction
// takes its fast path only at exact integer ratios: on an odd size it took 17 to 20 times as long,
// so the even part is reduced by it and an odd edge apart.
void halve(const cv::Mat &src, cv::Mat &dst) {
  const int even_w = src.cols & ~1, even_h = src.rows & ~1;
  const int half_w = even_w / 2, half_h = even_h / 2;
  const auto area = [](const cv::Mat &from, cv::Mat to) {
    cv::resize(from, to, to.size(), 0, 0, cv::INTER_AREA);
  };
  if (half_w > 0 && half_h > 0)
    area(src(cv::Rect(0, 0, even_w, even_h)), dst(cv::Rect(0, 0, half_w, half_h)));
  const bool odd_w = src.cols != even_w, odd_h = src.rows != even_h;
  if (odd_w && half_h > 0)
    area(src(cv::Rect(even_w, 0, 1, even_h)), dst(cv::Rect(half_w, 0, 1, half_h)));
  if (odd_h && half_w > 0)
    area(src(cv::Rect(0, even_h, even_w, 1)), dst(cv::Rect(0, half_h, half_w, 1)));
  if (odd_w && odd_h)
    src(cv::Rect(even_w, even_h, 1, 1)).copyTo(dst(cv::Rect(half_w, half_h, 1, 1)));
}

} // namespace

// A view of size and type at the top-left of backing, which grows to the largest size asked
// for: a filter over a region that changes size every frame still reuses its images.
cv::Mat GuidedFilter::Workspace::view(cv::Size size, int type) {
  if (backing.type() != type || backing.cols < size.width || backing.rows < size.height)
    backing.create(std::max(size.height, backing.rows), std::max(size.width, backing.cols), type);
  return backing(cv::Rect(cv::Point(0, 0), size));
}

GuidedFilter::GuidedFilter(int radius, double eps, int subsample)
    : radius_(std::max(1, radius)), subsample_(subsample),
      eps_(static_cast<float>(eps / (255.0 * 255.0))) {
  CV_Assert(subsample == 1 || subsample == 2);
}

// Per pixel and input, the coefficients a (3 channels) and b of the linear model p ~ a . I + b
// fitted over the window, as one 4-channel image (a0, a1, a2, b): a = (cov(I) + eps)^-1 cov(I, p),
// b = mean(p) - a . mean(I). The guide's statistics and the inverse of its covariance are shared
// by the inputs.
void GuidedFilter::fitCoefficients(const cv::Mat &guide, const Inputs &inputs, int radius,
                                   std::array<cv::Mat, kMaxInputs> &ab) {
  const cv::Size size = guide.size();
  const int n = static_cast<int>(inputs.size());
  // The window means of the guide's channels and their pairwise products (9 images), and of each
  // input and its products with the guide (4 each), stacked four to an image: (I0, I1, I2, I0I0),
  // (I0I1, I0I2, I1I1, I1I2), (I2I2), then (p, I0p, I1p, I2p) per input. OpenCV's box filter costs
  // about half as much per channel on a 4-channel image as on a 1-channel one (it sums in double
  // either way, so the means are the same), and the products are written in one pass.
  const int stacks_used = kGuideStacks + n;
  std::array<cv::Mat, kStacks> stacks, means;
  for (int k = 0; k < stacks_used; ++k) {
    const int channels = k == kGuideStacks - 1 ? 1 : 4;
    stacks[k] = stacks_[k].view(size, CV_32FC(channels));
    means[k] = means_[k].view(size, CV_32FC(channels));
  }
  forRows(size.height, [&](int y) {
    const cv::Vec3f *g = guide.ptr<cv::Vec3f>(y);
    cv::Vec4f *s0 = stacks[0].ptr<cv::Vec4f>(y), *s1 = stacks[1].ptr<cv::Vec4f>(y);
    float *s2 = stacks[2].ptr<float>(y);
    for (int x = 0; x < size.width; ++x) {
      const float c0 = g[x][0], c1 = g[x][1], c2 = g[x][2];
      s0[x] = cv::Vec4f(c0, c1, c2, c0 * c0);
      s1[x] = cv::Vec4f(c0 * c1, c0 * c2, c1 * c1, c1 * c2);
      s2[x] = c2 * c2;
    }
    for (int i = 0; i < n; ++i) {
      const float *q = inputs[i]->ptr<float>(y);
      cv::Vec4f *si = stacks[kGuideStacks + i].ptr<cv::Vec4f>(y);
      for (int x = 0; x < size.width; ++x)
        si[x] = cv::Vec4f(q[x], g[x][0] * q[x], g[x][1] * q[x], g[x][2] * q[x]);
    }
  });
  cv::parallel_for_(cv::Range(0, stacks_used), [&](const cv::Range &range) {
    for (int k = range.start; k < range.end; ++k)
      boxMean(stacks[k], means[k], radius);
  });
  const float eps = eps_;
  forRows(size.height, [&](int y) {
    const cv::Vec4f *m0 = means[0].ptr<cv::Vec4f>(y), *m1 = means[1].ptr<cv::Vec4f>(y);
    const float *m2 = means[2].ptr<float>(y);
    for (int x = 0; x < size.width; ++x) {
      const float mb = m0[x][0], mg = m0[x][1], mr = m0[x][2];
      // Covariance of the guide (symmetric) with eps on the diagonal.
      const float s00 = m0[x][3] - mb * mb + eps, s01 = m1[x][0] - mb * mg,
                  s02 = m1[x][1] - mb * mr;
      const float s11 = m1[x][2] - mg * mg + eps, s12 = m1[x][3] - mg * mr,
                  s22 = m2[x] - mr * mr + eps;
      // Its inverse by the adjugate.
      const float i00 = s11 * s22 - s12 * s12, i01 = s02 * s12 - s01 * s22,
                  i02 = s01 * s12 - s02 * s11;
      const float i11 = s00 * s22 - s02 * s02, i12 = s01 * s02 - s00 * s12,
                  i22 = s00 * s11 - s01 * s01;
      const float inv_det = 1.0f / (s00 * i00 + s01 * i01 + s02 * i02);
      for (int i = 0; i < n; ++i) {
        const cv::Vec4f &mi = means[kGuideStacks + i].ptr<cv::Vec4f>(y)[x];
        const float mp = mi[0];
        const float q0 = mi[1] - mb * mp, q1 = mi[2] - mg * mp, q2 = mi[3] - mr * mp;
        const float a0 = (i00 * q0 + i01 * q1 + i02 * q2) * inv_det;
        const float a1 = (i01 * q0 + i11 * q1 + i12 * q2) * inv_det;
        const float a2 = (i02 * q0 + i12 * q1 + i22 * q2) * inv_det;
        ab[i].ptr<cv::Vec4f>(y)[x] = cv::Vec4f(a0, a1, a2, mp - a0 * mb - a1 * mg - a2 * mr);
      }
    }
  });
}

void GuidedFilter::filter(const cv::Mat &guide_bgr, const cv::Mat &p, cv::Mat &out) {
  filterInputs(guide_bgr, {&p}, {&out});
}

void GuidedFilter::filterPair(const cv::Mat &guide_bgr, const cv::Mat &p, const cv::Mat &q,
                              cv::Mat &out_p, cv::Mat &out_q) {
  filterInputs(guide_bgr, {&p, &q}, {&out_p, &out_q});
}

void GuidedFilter::filterInputs(const cv::Mat &guide_bgr, const Inputs &inputs,
                                const std::vector<cv::Mat *> &outputs) {
  CV_Assert(guide_bgr.type() == CV_8UC3 && !inputs.empty() && inputs.size() <= kMaxInputs &&
            outputs.size() == inputs.size());
  for (const cv::Mat *p : inputs)
    CV_Assert(p->type() == CV_32F && p->size() == guide_bgr.size());
  if (subsample_ > 1) {
    filterReduced(guide_bgr, inputs, outputs);
    return;
  }
  const cv::Size size = guide_bgr.size();
  // In units of 1/255 the products stay small enough for float sums over the window.
  cv::Mat guide = guide_.view(size, CV_32FC3);
  guide_bgr.convertTo(guide, CV_32FC3, 1.0 / 255);
  std::array<cv::Mat, kMaxInputs> ab;
  for (size_t i = 0; i < inputs.size(); ++i)
    ab[i] = ab_[i].view(size, CV_32FC4);
  fitCoefficients(guide, inputs, radius_, ab);
  for (size_t i = 0; i < inputs.size(); ++i) {
    // Every pixel's output averages the models of the windows that hold it.
    cv::Mat mean_ab = mean_ab_[i].view(size, CV_32FC4);
    boxMean(ab[i], mean_ab, radius_);
    cv::Mat &out = *outputs[i];
    out.create(size, CV_32F);
    forRows(size.height, [&](int y) {
      const cv::Vec3f *g = guide.ptr<cv::Vec3f>(y);
      const cv::Vec4f *m = mean_ab.ptr<cv::Vec4f>(y);
      float *o = out.ptr<float>(y);
      for (int x = 0; x < size.width; ++x)
        o[x] = m[x][0] * g[x][0] + m[x][1] * g[x][1] + m[x][2] * g[x][2] + m[x][3];
    });
  }
}

// He and Sun's fast guided filter: the local models are fitted and averaged over the windows on
// the guide and inputs reduced by the subsampling factor (the radius reduced alike), brought back
// to full size bilinearly and applied to the full-size guide. The window sums, which are most of
// the filter's work, cover a quarter of the pixels at a factor of 2.
void GuidedFilter::filterReduced(const cv::Mat &guide_bgr, const Inputs &inputs,
                                 const std::vector<cv::Mat *> &outputs) {
  const cv::Size size = guide_bgr.size();
  const cv::Size reduced((size.width + subsample_ - 1) / subsample_,
                         (size.height + subsample_ - 1) / subsample_);
  const int radius = std::max(1, radius_ / subsample_);
  cv::Mat reduced_bgr = reduced_bgr_.view(reduced, CV_8UC3);
  halve(guide_bgr, reduced_bgr);
  cv::Mat guide = guide_.view(reduced, CV_32FC3);
  reduced_bgr.convertTo(guide, CV_32FC3, 1.0 / 255);
  std::array<cv::Mat, kMaxInputs> reduced_inputs, ab;
  Inputs fitted_inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    reduced_inputs[i] = reduced_inputs_[i].view(reduced, CV_32F);
    halve(*inputs[i], reduced_inputs[i]);
    fitted_inputs.push_back(&reduced_inputs[i]);
    ab[i] = ab_[i].view(reduced, CV_32FC4);
  }
  fitCoefficients(guide, fitted_inputs, radius, ab);
  constexpr float kLevel = 1.0f / 255;
  for (size_t i = 0; i < inputs.size(); ++i) {
    cv::Mat mean_ab = mean_ab_[i].view(reduced, CV_32FC4);
    boxMean(ab[i], mean_ab, radius);
    cv::Mat models = full_ab_[i].view(size, CV_32FC4);
    cv::resize(mean_ab, models, size, 0, 0, cv::INTER_LINEAR);
    cv::Mat &out = *outputs[i];
    out.create(size, CV_32F);
    forRows(size.height, [&](int y) {
      const uchar *g = guide_bgr.ptr<uchar>(y);
      const cv::Vec4f *m = models.ptr<cv::Vec4f>(y);
      float *o = out.ptr<float>(y);
      for (int x = 0; x < size.width; ++x)
        o[x] = (m[x][0] * g[3 * x] + m[x][1] * g[3 * x + 1] + m[x][2] * g[3 * x + 2]) * kLevel +
               m[x][3];
    });
  }
}

GuidedUpsampler::GuidedUpsampler(int radius, double eps)
    : radius_(std::max(1, radius)), eps_(static_cast<float>(eps / (255.0 * 255.0))) {}

std::vector<GuidedUpsampler::Tap> GuidedUpsampler::taps(int full, int small) {
  std::vector<Tap> t(full);
  const float scale = static_cast<float>(small) / full;
  for (int i = 0; i < full; ++i) {
    const float s = std::min(std::max((i + 0.5f) * scale - 0.5f, 0.0f), small - 1.0f);
    t[i].lo = static_cast<int>(s);
    t[i].hi = std::min(t[i].lo + 1, small - 1);
    t[i].w = s - t[i].lo;
  }
  return t;
}

namespace {

// The first full-resolution pixel whose nearest working pixel is at least k.
int firstOf(int k, int full, int small) {
  return std::min(
      full, std::max(0, static_cast<int>(std::ceil(k * full / static_cast<float>(small) - 0.5f))));
}

} // namespace

// The grey guided filter's coefficients a, b (guide and mask in [0, 1]), averaged over the
// windows, for the pixels of region. The region carries a margin of two radii and one pixel
// around every pixel that is read later, so its own border never reaches them: the result there is
// what the whole image would give.
void GuidedUpsampler::fitCoefficients(const cv::Mat &mask, const cv::Mat &guide_small) {
  mask.convertTo(p_, CV_32F, 1.0 / 255);
  guide_small.convertTo(i_, CV_32F, 1.0 / 255);
  boxMean(i_, mean_i_, radius_);
  boxMean(p_, mean_p_, radius_);
  cv::multiply(i_, i_, product_);
  boxMean(product_, mean_ii_, radius_);
  cv::multiply(i_, p_, product_);
  boxMean(product_, mean_ip_, radius_);
  a_.create(mask.size(), CV_32F);
  b_.create(mask.size(), CV_32F);
  for (int y = 0; y < mask.rows; ++y) {
    const float *mi = mean_i_.ptr<float>(y), *mp = mean_p_.ptr<float>(y);
    const float *mii = mean_ii_.ptr<float>(y), *mip = mean_ip_.ptr<float>(y);
    float *a = a_.ptr<float>(y), *b = b_.ptr<float>(y);
    for (int x = 0; x < mask.cols; ++x) {
      a[x] = (mip[x] - mi[x] * mp[x]) / (mii[x] - mi[x] * mi[x] + eps_);
      b[x] = mp[x] - a[x] * mi[x];
    }
  }
  boxMean(a_, mean_a_, radius_);
  boxMean(b_, mean_b_, radius_);
}

void GuidedUpsampler::upsample(const cv::Mat &mask, const cv::Mat &guide_small,
                               const cv::Mat &guide_full, int channel, cv::Mat &out) {
  CV_Assert(mask.type() == CV_8U && guide_small.type() == CV_8U &&
            guide_small.size() == mask.size() && guide_full.depth() == CV_8U && channel >= 0 &&
            channel < guide_full.channels());
  const cv::Size full = guide_full.size();
  cv::resize(mask, out, full, 0, 0, cv::INTER_NEAREST);
  if (full == mask.size())
    return;
  // Where the mask is the same over every window that reaches a pixel, the filter returns that
  // value: only pixels with both object and background within two radii (and one more for the
  // bilinear step) need the full-resolution guide.
  const cv::Mat kernel =
      cv::getStructuringElement(cv::MORPH_RECT, cv::Size(4 * radius_ + 3, 4 * radius_ + 3));
  cv::dilate(mask, grown_, kernel);
  cv::erode(mask, shrunk_, kernel);
  // The coefficients are needed only around that band, which lies inside the grown mask.
  const int margin = 2 * radius_ + 2;
  const cv::Rect band = cv::boundingRect(grown_);
  if (band.empty())
    return;
  const cv::Rect region = grownBox(band, margin, mask.size());
  fitCoefficients(mask(region), guide_small(region));
  if (col_taps_.size() != static_cast<size_t>(full.width) ||
      row_taps_.size() != static_cast<size_t>(full.height) || taps_for_ != mask.size()) {
    col_taps_ = taps(full.width, mask.cols);
    row_taps_ = taps(full.height, mask.rows);
    taps_for_ = mask.size();
  }
  // Working rows in parallel: each writes only the full-resolution rows it covers.
  forRows(band.height, [&](int row) {
    const int yw = band.y + row;
    refineRow(yw, firstOf(yw, full.height, mask.rows), firstOf(yw + 1, full.height, mask.rows),
              region.tl(), guide_full, channel, out);
  });
}

// Runs of working pixels near the boundary on working row yw, each computed over its
// full-resolution span (rows y_begin..y_end): the coefficients interpolated bilinearly and
// applied to the full-resolution guide, then cut at half.
void GuidedUpsampler::refineRow(int yw, int y_begin, int y_end, cv::Point origin,
                                const cv::Mat &guide_full, int channel, cv::Mat &out) const {
  const int cols = grown_.cols;
  const cv::Size full = guide_full.size();
  const int channels = guide_full.channels();
  const uchar *g = grown_.ptr<uchar>(yw), *s = shrunk_.ptr<uchar>(yw);
  for (int xw = 0; xw < cols;) {
    if (g[xw] == s[xw]) {
      ++xw;
      continue;
    }
    int run_end = xw + 1;
    while (run_end < cols && g[run_end] != s[run_end])
      ++run_end;
    const int x_begin = firstOf(xw, full.width, cols);
    const int x_end = firstOf(run_end, full.width, cols);
    for (int y = y_begin; y < y_end; ++y) {
      const Tap &ty = row_taps_[y];
      const float *a0 = mean_a_.ptr<float>(ty.lo - origin.y) - origin.x;
      const float *a1 = mean_a_.ptr<float>(ty.hi - origin.y) - origin.x;
      const float *b0 = mean_b_.ptr<float>(ty.lo - origin.y) - origin.x;
      const float *b1 = mean_b_.ptr<float>(ty.hi - origin.y) - origin.x;
      const uchar *guide = guide_full.ptr<uchar>(y) + channel;
      uchar *o = out.ptr<uchar>(y);
      for (int x = x_begin; x < x_end; ++x) {
        const Tap &tx = col_taps_[x];
        const float a_top = a0[tx.lo] + (a0[tx.hi] - a0[tx.lo]) * tx.w;
        const float a_bottom = a1[tx.lo] + (a1[tx.hi] - a1[tx.lo]) * tx.w;
        const float b_top = b0[tx.lo] + (b0[tx.hi] - b0[tx.lo]) * tx.w;
        const float b_bottom = b1[tx.lo] + (b1[tx.hi] - b1[tx.lo]) * tx.w;
        const float a = a_top + (a_bottom - a_top) * ty.w;
        const float b = b_top + (b_bottom - b_top) * ty.w;
        o[x] = a * (guide[x * channels] * (1.0f / 255)) + b > 0.5f ? 255 : 0;
      }
    }
    xw = run_end;
  }
}

} // namespace flagmask
