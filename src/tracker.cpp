#include "tracker.h"

#include "error.h"
#include "fusion.h"
#include "guided.h"
#include "motion.h"
#include "network.h"
#include "parallel.h"
#include "scale.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include <algorithm>
#include <cmath>
#include <optional>

namespace flagmask {
namespace {

// Width of the band around the carried boundary inside which appearance may overrule the carried
// mask, as a fraction of the working image's diagonal.
constexpr double kBandFraction = 0.05;
// Connected pieces smaller than this fraction of the largest piece are noise.
constexpr double kMinPieceFraction = 0.02;
// Pieces within this fraction of the image diagonal of the carried object belong to it: a part that
// comes out from behind a pole, a trunk or a tree is a separate piece at first (+0.016 J&F on dev
// over keeping only pieces on the carried object; the hard synthetic flag 0.46 -> 0.97).
constexpr double kNearFraction = 0.08;
// A piece only near the carried object joins it when some pixel of it is more likely object than
// this. On the dev split (0.7501 -> 0.7502) and the hard synthetic flag (0.961) it changes little;
// 0.8 cost 0.0006 J&F and 0.9 0.004. It keeps flamingo's tracked bird apart from the one behind it
// at 1080p input (0.707 -> 0.840): the element's J&F at 1080p went from 0.011 under its J&F at
// 480p to 0.004 under (scripts/eval_pipeline.sh).
constexpr float kJoinProbability = 0.7f;
// Enclosed background holes smaller than this fraction of the object are filled: specks. Real
// objects have larger holes (between legs, arms and body, inside a handle) that must stay open; a
// limit of 5 % closed those and cost 0.009 J&F on the dev split (0.740 -> 0.749 at 0.2 %, spread
// over 14 of the 20 sequences).
constexpr double kMaxHoleFraction = 0.002;
// The state carried to the next frame mixes the decided mask with the fused probability by this
// share, so an undecided pixel stays undecided instead of flipping the next frame's prior.
constexpr double kSoftState = 0.5;
// Re-detection after loss: appearance must be this sure, and the found blob about the lost size.
constexpr double kRedetectProbability = 0.8;
constexpr double kRedetectMinRatio = 0.3, kRedetectMaxRatio = 3.0;
// The confident blob may grow into the pixels connected to it above these probabilities.
constexpr double kRedetectExtents[] = {0.5, 0.6, 0.7};
// The model adapts only when the area changed by less than this factor from the previous frame.
constexpr double kAdaptAreaChange = 1.3;
constexpr double kAdaptMinConfidence = 0.5;

void checkImage(const cv::Mat &image) {
  if (image.empty() || image.type() != CV_8UC3)
    throw Error("flagmask: the tracker's image must be a non-empty 8-bit 3-channel BGR image");
}

// Where the carried object is, in distances: computed once per frame for the fusion's trust and
// for which pieces are near enough to belong to the object. Both uses stop caring beyond `reach`
// pixels from the boundary (the trust saturates at its band's width, and farther pieces are
// dropped), so only the object's box is measured, grown by as much as a distance up to reach can
// need; farther pixels get the frame's diagonal. The distances inside that box are the ones the
// whole frame would give: a chamfer distance's shortest path stays inside the box spanned by its
// two ends.
struct CarriedShape {
  cv::Mat object;  // CV_8U: the carried object (carried probability above one half)
  cv::Mat inside;  // CV_32F: distance of each object pixel to the background, 0 outside
  cv::Mat outside; // CV_32F: distance of each background pixel to the object, 0 inside

  CarriedShape(const cv::Mat &carried, double reach) : object(carried > 0.5) {
    const cv::Rect box = cv::boundingRect(object);
    const float far = static_cast<float>(std::hypot(object.cols, object.rows));
    inside = cv::Mat::zeros(object.size(), CV_32F);
    outside = cv::Mat(object.size(), CV_32F, cv::Scalar(far));
    if (box.empty())
      return;
    // A 3x3 chamfer step costs at least kAxialStep per pixel of chessboard distance.
    constexpr double kAxialStep = 0.955;
    const cv::Rect around_object = grownBox(box, 1, object.size());
    cv::distanceTransform(object(around_object), inside(around_object), cv::DIST_L2, 3);
    const cv::Rect within_reach =
        grownBox(box, static_cast<int>(std::ceil(reach / kAxialStep)) + 1, object.size());
    cv::distanceTransform(~object(within_reach), outside(within_reach), cv::DIST_L2, 3);
  }
};

// Gradient magnitude, about 0..1 (a 3x3 Sobel answers at most 4 * 255 to a step).
cv::Mat edgeStrength(const cv::Mat &gray) {
  cv::Mat dx, dy, magnitude;
  cv::Sobel(gray, dx, CV_32F, 1, 0, 3, 1.0 / (4 * 255));
  cv::Sobel(gray, dy, CV_32F, 0, 1, 3, 1.0 / (4 * 255));
  cv::magnitude(dx, dy, magnitude);
  return magnitude;
}

// The guided filter's window radius (working pixels) and regularisation (8-bit levels squared),
// and the factor its local models are fitted at less than the working resolution (the fast guided
// filter). Fitted at half resolution with a radius of 1 there, it cost 2.4 ms a frame instead of
// 4.4 (one core, dev split) and the cross-validated J&F rose 0.7715 -> 0.7767 against the exact
// filter at radius 4; at radius 3 the exact one gave 0.7763, and at half resolution radius 2 gave
// 0.7668 and radius 3 0.7541.
constexpr int kGuidedRadius = 2;
constexpr int kGuidedSubsample = 2;
constexpr double kGuidedEps = 0.005 * 255 * 255;
// Fused probabilities at most this low are left as they are when their whole neighbourhood is
// (see refineNearObject).
constexpr float kSettledBackground = 0.2f;

// Context the network sees around the pixels it may change, in working pixels.
constexpr int kNetworkMargin = 16;

// The guided filter overshoots slightly at strong edges; a probability stays in [0, 1].
void keepProbability(const cv::Mat &filtered, cv::Mat out) {
  cv::min(cv::max(filtered, 0.0), 1.0, out);
}

// Pulls the probability towards image edges, so the boundary follows the object's outline.
cv::Mat refineAlongEdges(GuidedFilter &guided, const cv::Mat &guide_bgr,
                         const cv::Mat &probability) {
  cv::Mat out;
  guided.filter(guide_bgr, probability, out);
  keepProbability(out, out);
  return out;
}

// The box of the pixels the guided filter may change: possibly object (above kSettledBackground)
// and within the box of the carried object's reach (pieces beyond it are dropped anyway). Only
// `within` is searched: probability is settled everywhere else.
cv::Rect candidateBox(const cv::Mat &probability, const cv::Rect &reach_box,
                      const cv::Rect &within) {
  if (within.empty())
    return cv::Rect();
  const cv::Rect found = cv::boundingRect(probability(within) > kSettledBackground);
  return (found + within.tl()) & reach_box;
}

// The guided filter, run only where it can change the decision: around the candidate box. Outside,
// every window of the filter holds only low probabilities and its local linear fit stays low. This
// halves the time of a frame when the object is small.
cv::Rect filteredRegion(const cv::Rect &candidates, cv::Size size) {
  // Two window radii: the filter averages coefficients fitted over windows around each pixel;
  // and the reduction's and the bilinear step's reach.
  return grownBox(candidates, 2 * kGuidedRadius + kGuidedSubsample + 2, size);
}

cv::Mat refineNearObject(GuidedFilter &guided, const cv::Mat &guide_bgr, const cv::Mat &fused,
                         const cv::Rect &candidates) {
  if (candidates.empty())
    return fused;
  const cv::Rect region = filteredRegion(candidates, fused.size());
  cv::Mat out = fused.clone();
  refineAlongEdges(guided, guide_bgr(region), fused(region)).copyTo(out(region));
  return out;
}

// refineNearObject of two probabilities at once, over the union of their candidate boxes: the
// guide's statistics are shared.
void refinePairNearObject(GuidedFilter &guided, const cv::Mat &guide_bgr, const cv::Mat &p,
                          const cv::Mat &q, const cv::Rect &candidates, cv::Mat &out_p,
                          cv::Mat &out_q) {
  out_p = p.clone();
  out_q = q.clone();
  if (candidates.empty())
    return;
  const cv::Rect region = filteredRegion(candidates, p.size());
  cv::Mat filtered_p, filtered_q;
  guided.filterPair(guide_bgr(region), p(region), q(region), filtered_p, filtered_q);
  keepProbability(filtered_p, out_p(region));
  keepProbability(filtered_q, out_q(region));
}

// Where the pieces of a frame's candidate mask may belong to the object (all empty when nothing
// was carried: then the largest piece is the object).
struct PieceTest {
  cv::Mat object;      // CV_8U: the carried object; a piece touching it belongs to it
  cv::Mat near;        // CV_8U: the object and its near surroundings (nearCarried)
  cv::Mat probability; // CV_32F: the fused probability the candidates were cut from
};

// What is known of each labelled piece: whether it touches the carried object or only its
// surroundings, and, for a piece only near it, its surest pixel (the object lies inside its near
// surroundings, so one test of `near` per pixel settles most of them).
struct PieceFacts {
  std::vector<uchar> on_object, near;
  std::vector<float> surest;

  PieceFacts(const cv::Mat &labels, int n, const PieceTest &test, const cv::Rect &box)
      : on_object(n, 0), near(n, 0), surest(n, 0.f) {
    if (test.near.empty())
      return;
    const cv::Mat object = test.object(box), around = test.near(box);
    for (int y = 0; y < labels.rows; ++y) {
      const int *l = labels.ptr<int>(y);
      const uchar *o = object.ptr<uchar>(y), *a = around.ptr<uchar>(y);
      for (int x = 0; x < labels.cols; ++x)
        if (a[x]) {
          near[l[x]] = 1;
          on_object[l[x]] |= o[x] != 0;
        }
    }
    std::vector<uchar> only_near(n, 0);
    for (int i = 1; i < n; ++i)
      only_near[i] = near[i] && !on_object[i];
    if (std::find(only_near.begin(), only_near.end(), 1) == only_near.end())
      return;
    const cv::Mat p = test.probability(box);
    for (int y = 0; y < labels.rows; ++y) {
      const int *l = labels.ptr<int>(y);
      const float *q = p.ptr<float>(y);
      for (int x = 0; x < labels.cols; ++x)
        if (only_near[l[x]])
          surest[l[x]] = std::max(surest[l[x]], q[x]);
    }
  }
};

// The number of pixels of each label. OpenCV's labelling with statistics costs about four times
// as much as the labelling alone and one pass counting the labels (it also sums every pixel's
// coordinates for the centroids).
std::vector<int> pieceAreas(const cv::Mat &labels, int n) {
  std::vector<int> areas(n, 0);
  for (int y = 0; y < labels.rows; ++y) {
    const int *l = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x)
      ++areas[l[x]];
  }
  return areas;
}

// Keeps the pieces that belong to the carried object (or the largest one when nothing was carried)
// and drops specks. A piece touching the carried object belongs to it. A piece only near it (a
// part coming out from behind a pole) joins when the fusion is sure of it somewhere: a look-alike
// neighbour (another flamingo beside the tracked one) shows up first as a faint piece that, once
// carried, grows into the mask over the next frames. Labels only the box around the candidate
// pixels: the pieces are the same there as in the whole frame.
cv::Mat keepObjectPieces(const cv::Mat &binary, const PieceTest &test) {
  cv::Mat out = cv::Mat::zeros(binary.size(), CV_8U);
  const cv::Rect box = cv::boundingRect(binary);
  if (box.empty())
    return out;
  cv::Mat labels;
  const int n = cv::connectedComponents(binary(box), labels, 8, CV_32S);
  const std::vector<int> areas = pieceAreas(labels, n);
  const PieceFacts facts(labels, n, test, box);
  int largest = 0;
  for (int i = 1; i < n; ++i)
    largest = std::max(largest, areas[i]);
  const bool any_near =
      std::any_of(facts.near.begin() + 1, facts.near.end(), [](uchar v) { return v != 0; });
  std::vector<uchar> keep(n, 0);
  for (int i = 1; i < n; ++i) {
    const int area = areas[i];
    const bool big_enough = area >= kMinPieceFraction * largest;
    const bool belongs =
        facts.on_object[i] || (facts.near[i] && facts.surest[i] > kJoinProbability);
    keep[i] = big_enough && (any_near ? belongs : area == largest);
  }
  cv::Mat out_box = out(box);
  for (int y = 0; y < labels.rows; ++y) {
    const int *l = labels.ptr<int>(y);
    uchar *o = out_box.ptr<uchar>(y);
    for (int x = 0; x < labels.cols; ++x)
      o[x] = keep[l[x]] ? 255 : 0;
  }
  return out;
}

// Width of the band around the carried boundary where the fusion's trust in the carried mask
// rises, in pixels.
double trustBand(cv::Size size) {
  return std::max(3.0, kBandFraction * std::hypot(size.width, size.height));
}

// How far from the carried object a piece may lie and still belong to it, in pixels.
double nearReach(cv::Size size) {
  return kNearFraction * std::hypot(size.width, size.height);
}

// The largest distance from the carried object that the fusion or the piece selection tells apart
// from a larger one.
double farthestRead(cv::Size size) {
  return std::max(trustBand(size), nearReach(size));
}

// Where a piece must reach to belong to the object: the carried object and its near surroundings.
// (A distance threshold costs the same for any reach, unlike a dilation with a large disc.)
cv::Mat nearCarried(const CarriedShape &shape) {
  return shape.outside <= nearReach(shape.outside.size());
}

// Fills background holes enclosed by the object when they are small next to it. One pass over the
// labels with a table of which holes to fill (a mask per hole cost a frame-sized comparison each).
// Only the object's bounding box is labelled: an enclosed hole lies inside it, and background on
// the box's edge is 4-connected to the background beyond it, so it counts as open like the frame's
// edge.
void fillSmallHoles(cv::Mat &mask) {
  const cv::Rect box = cv::boundingRect(mask);
  if (box.empty())
    return;
  cv::Mat object = mask(box);
  const int object_area = cv::countNonZero(object);
  const cv::Mat background = object == 0;
  cv::Mat labels;
  const int n = cv::connectedComponents(background, labels, 4, CV_32S);
  const std::vector<int> areas = pieceAreas(labels, n);
  std::vector<uchar> open(n, 0);
  const int last_row = labels.rows - 1, last_col = labels.cols - 1;
  for (int x = 0; x <= last_col; ++x)
    open[labels.at<int>(0, x)] = open[labels.at<int>(last_row, x)] = 1;
  for (int y = 0; y <= last_row; ++y)
    open[labels.at<int>(y, 0)] = open[labels.at<int>(y, last_col)] = 1;
  std::vector<uchar> fill(n, 0);
  bool any = false;
  for (int i = 1; i < n; ++i) {
    fill[i] = !open[i] && areas[i] < kMaxHoleFraction * object_area;
    any = any || fill[i];
  }
  if (!any)
    return;
  for (int y = 0; y < object.rows; ++y) {
    const int *l = labels.ptr<int>(y);
    uchar *m = object.ptr<uchar>(y);
    for (int x = 0; x < object.cols; ++x)
      if (fill[l[x]])
        m[x] = 255;
  }
}

// How decided the probability is around the object: mean |2p - 1| over the dilated object box.
double decidedness(const cv::Mat &probability, const cv::Mat &mask) {
  const cv::Rect box = cv::boundingRect(mask);
  if (box.empty())
    return 0.0;
  const int pad = std::max(2, std::max(box.width, box.height) / 8);
  const cv::Rect region = grownBox(box, pad, mask.size());
  cv::Mat p = probability(region), certainty;
  cv::absdiff(p * 2.0, cv::Scalar(1.0), certainty);
  return cv::mean(certainty)[0];
}

// Whether the object's area changed little since the previous frame (both non-empty).
bool steady(double area, double prev_area) {
  if (area <= 0 || prev_area <= 0)
    return false;
  return std::max(area, prev_area) / std::min(area, prev_area) <= kAdaptAreaChange;
}

// Dense flow: DIS with the ultrafast preset's search, but down to half the working resolution
// instead of a quarter (finest scale 1). Thin parts (legs, a pole, a flag's tip) move further than
// their width at a quarter: on the dev split this bought 0.015 J&F (0.748 -> 0.763) and took
// flicker from 0.011 to 0.010, for about 2 ms more a frame at 480x270. The medium preset (also
// finest scale 1, but larger patches and variational refinement) scores lower (0.757) and costs
// four times as much. Patches every 5 pixels instead of the preset's 4: the finest scale is most
// of the flow's time, and its patches are what it spends it on (5.0 -> 3.8 ms a frame on one
// core; cross-validated J&F 0.7709 -> 0.7715; every 6 pixels, 2.9 ms, gave 0.7701).
cv::Ptr<cv::DISOpticalFlow> createFlow() {
  cv::Ptr<cv::DISOpticalFlow> flow =
      cv::DISOpticalFlow::create(cv::DISOpticalFlow::PRESET_ULTRAFAST);
  flow->setFinestScale(1);
  flow->setPatchStride(5);
  return flow;
}

// The pieces (8-connected) of region that hold a pixel of core. Both CV_8U, the same size.
cv::Mat piecesHolding(const cv::Mat &region, const cv::Mat &core) {
  cv::Mat labels;
  const int n = cv::connectedComponents(region, labels, 8, CV_32S);
  std::vector<uchar> keep(n, 0);
  for (int y = 0; y < labels.rows; ++y) {
    const int *l = labels.ptr<int>(y);
    const uchar *c = core.ptr<uchar>(y);
    for (int x = 0; x < labels.cols; ++x)
      if (c[x])
        keep[l[x]] = 255;
  }
  keep[0] = 0; // the background of region
  cv::Mat out(region.size(), CV_8U);
  for (int y = 0; y < labels.rows; ++y) {
    const int *l = labels.ptr<int>(y);
    uchar *o = out.ptr<uchar>(y);
    for (int x = 0; x < labels.cols; ++x)
      o[x] = keep[l[x]];
  }
  return out;
}

} // namespace

struct Tracker::State {
  SegmenterParams params;
  Model model;
  std::optional<Fusion> learned; // fitted weights; the naive Bayes when none
  Network network;               // refines the fusion when loaded
  GuidedFilter guided{kGuidedRadius, kGuidedEps, kGuidedSubsample};
  std::function<void(const FusionCues &)> observer;
  cv::Ptr<cv::DISOpticalFlow> flow = createFlow();
  bool started = false;
  cv::Size size;     // of the images tracked since the seed
  cv::Mat prev_gray; // CV_8U at working size
  cv::Mat prev_mask; // CV_32F at working size, object probability
  cv::Mat flow_back; // CV_32FC2 at working size, current -> previous, of the last carry()
  // The object's size (pixels at working size) when last tracked steadily: what re-detection looks
  // for. Not updated while the object shrinks fast (leaving, occluded), so it is its full size.
  double last_area = 0;
  double prev_area = 0; // object pixels in the previous frame
  bool lost = false;
  cv::Mat shown; // CV_8U at working size: the mask the last frame gave out (see steadyMask)

  // Tracking starts on images of this size. OpenCV's DIS flow keeps buffers from the size it
  // last ran at and crashed on images of another size: a new size gets a new flow.
  void startAt(cv::Size image) {
    if (image != size)
      flow = createFlow();
    size = image;
  }
  cv::Mat carry(const cv::Mat &gray);
  FusionCues cuesOf(const cv::Mat &carried, const CarriedShape &shape, const cv::Mat &appearance,
                    const cv::Mat &motion, const cv::Mat &gray) const;
  cv::Mat fuse(const FusionCues &cues) const;
  cv::Mat corrected(const cv::Mat &image, const FusionCues &cues, const cv::Mat &fused,
                    const cv::Rect &candidates) const;
  cv::Mat decide(const cv::Mat &probability, PieceTest pieces) const;
  cv::Mat redetect(const cv::Mat &appearance) const;
  void adapt(const cv::Mat &lab, const cv::Mat &mask, double area, double confidence);
  Result finish(const cv::Mat &lab, const cv::Mat &gray, const cv::Mat &mask,
                const cv::Mat &probability);
  void show(Result &r, const cv::Mat &mask, const cv::Mat &probability);
  void carryForward(const cv::Mat &mask, const cv::Mat &probability);
};

// What the next frame starts from: the decided mask, softened by the probability where it was
// undecided (holes the clean-up filled count as object, pieces it dropped as background).
// One pass over the pixels (the mask is 0 or 255).
void Tracker::State::carryForward(const cv::Mat &mask, const cv::Mat &probability) {
  cv::Mat next(mask.size(), CV_32F);
  const float threshold = static_cast<float>(params.threshold);
  forRows(mask.rows, [&](int y) {
    const uchar *m = mask.ptr<uchar>(y);
    const float *p = probability.ptr<float>(y);
    float *n = next.ptr<float>(y);
    for (int x = 0; x < mask.cols; ++x) {
      const double soft = p[x] > threshold ? p[x] : 1.0;
      n[x] = m[x] ? static_cast<float>((1.0 - kSoftState) + soft * kSoftState) : 0.f;
    }
  });
  prev_mask = next;
}

// The previous mask moved to the current frame along dense optical flow (current -> previous, so
// every current pixel looks up where it came from).
cv::Mat Tracker::State::carry(const cv::Mat &gray) {
  flow->calc(gray, prev_gray, flow_back);
  cv::Mat map(flow_back.size(), CV_32FC2);
  forRows(map.rows, [&](int y) {
    const cv::Point2f *f = flow_back.ptr<cv::Point2f>(y);
    cv::Point2f *m = map.ptr<cv::Point2f>(y);
    for (int x = 0; x < map.cols; ++x)
      m[x] = cv::Point2f(x + f[x].x, y + f[x].y);
  });
  cv::Mat carried;
  cv::remap(prev_mask, carried, map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  return carried;
}

FusionCues Tracker::State::cuesOf(const cv::Mat &carried, const CarriedShape &shape,
                                  const cv::Mat &appearance, const cv::Mat &motion,
                                  const cv::Mat &gray) const {
  FusionCues cues;
  cues.carried = carried;
  cues.distance = (shape.inside - shape.outside) * (1.0 / trustBand(carried.size()));
  cues.appearance = appearance;
  cues.motion = motion;
  if (learned || observer)
    cues.edges = edgeStrength(gray);
  return cues;
}

// The cues of every pixel combined into one object probability by the fusion in use.
cv::Mat Tracker::State::fuse(const FusionCues &cues) const {
  if (observer)
    observer(cues);
  return learned ? learned->probability(cues)
                 : Fusion::naiveBayes(params.temporal_weight).probability(cues);
}

// The network's correction of the fusion around the carried object. It is added to the fusion as
// it came, and the sum pulled to the image's edges like the fusion itself: adding it to the fusion
// already pulled to the edges saved that second guided filter (about 2 ms a frame) but cost the
// cross-validated J&F its whole gain (0.7658 -> 0.7561; without the network 0.7564).
cv::Mat Tracker::State::corrected(const cv::Mat &image, const FusionCues &cues,
                                  const cv::Mat &fused, const cv::Rect &candidates) const {
  if (candidates.empty())
    return fused;
  return network.refine(image, cues, fused, grownBox(candidates, kNetworkMargin, image.size()));
}

// The object's mask from a probability: above the threshold, the pieces that belong to the
// carried object, small holes filled.
cv::Mat Tracker::State::decide(const cv::Mat &probability, PieceTest pieces) const {
  pieces.probability = probability;
  cv::Mat mask = keepObjectPieces(probability > params.threshold, pieces);
  fillSmallHoles(mask);
  return mask;
}

// Looks for the object by appearance alone: the largest confident blob, grown into the pixels
// connected to it that are merely likely when that brings it closer to the size the object had
// when last seen (the colour model is seldom sure of a whole object: the confident core alone was
// too small to be taken on most sequences after a seek), and only if it is about that size.
cv::Mat Tracker::State::redetect(const cv::Mat &appearance) const {
  const cv::Mat core = keepObjectPieces(appearance > kRedetectProbability, PieceTest());
  const double reference = last_area > 0 ? last_area : model.objectFraction() * core.total();
  const auto misfit = [&](const cv::Mat &m) {
    return std::abs(std::log(std::max(1, cv::countNonZero(m)) / reference));
  };
  cv::Mat best = core;
  double best_misfit = misfit(core);
  if (cv::countNonZero(core) > 0)
    for (const double extent : kRedetectExtents) {
      cv::Mat grown = piecesHolding(appearance > extent, core);
      const double m = misfit(grown);
      if (m < best_misfit)
        best = grown, best_misfit = m;
    }
  const double area = cv::countNonZero(best);
  if (area < kRedetectMinRatio * reference || area > kRedetectMaxRatio * reference)
    return cv::Mat::zeros(appearance.size(), CV_8U);
  return best;
}

// area: the mask's object pixels; compared with the previous frame's (prev_area, not yet updated).
void Tracker::State::adapt(const cv::Mat &lab, const cv::Mat &mask, double area,
                           double confidence) {
  // A model trained on several frames already holds the object's changing looks; adapting at the
  // seed-only rate washed that out. Dividing the rate by the training frames: on the dev split a
  // model trained on frames 0, N/4, N/2 and 3N/4 scores 0.759 (0.752 at the undivided rate),
  // against 0.751 for the seed-only tracker (scripts/check_multiframe.sh).
  const double rate = params.adapt_rate / std::max(1, model.frames());
  if (rate <= 0 || confidence < kAdaptMinConfidence)
    return;
  if (!steady(area, prev_area))
    return;
  // Learn only from pixels well inside or well outside: the boundary is where mistakes are. Both
  // masks change only within the object's box grown by what the dilation adds, so only that box is
  // filtered (the same masks as filtering the whole frame).
  constexpr int kRadius = 3, kGrowths = 2;
  const cv::Mat kernel =
      cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * kRadius + 1, 2 * kRadius + 1));
  const cv::Rect box = grownBox(cv::boundingRect(mask), kRadius * kGrowths + 1, mask.size());
  cv::Mat inner = cv::Mat::zeros(mask.size(), CV_8U), ring = cv::Mat::zeros(mask.size(), CV_8U);
  cv::erode(mask(box), inner(box), kernel);
  cv::dilate(mask(box), ring(box), kernel, cv::Point(-1, -1), kGrowths);
  ring(box) &= ~inner(box);
  model.adaptLab(lab, inner, ring, rate);
}

Result Tracker::State::finish(const cv::Mat &lab, const cv::Mat &gray, const cv::Mat &mask,
                              const cv::Mat &probability) {
  Result r;
  r.probability = probability;
  const double area = cv::countNonZero(mask);
  r.state = area > 0 ? TrackState::Tracking : TrackState::Lost;
  r.confidence = decidedness(probability, mask);
  if (area > 0) {
    adapt(lab, mask, area, r.confidence);
    if (last_area == 0 || steady(area, prev_area))
      last_area = area;
  }
  prev_area = area;
  lost = area == 0;
  carryForward(mask, probability);
  prev_gray = gray;
  started = true;
  return r;
}

// What the frame shows: its mask, held steady against the last one shown when hysteresis is on
// (the tracker goes on from its own decision; a lost object is shown lost at once). The result's
// area and box describe what is shown.
void Tracker::State::show(Result &r, const cv::Mat &mask, const cv::Mat &probability) {
  const bool hold = params.hysteresis > 0 && !shown.empty() && r.state == TrackState::Tracking;
  shown = hold ? steadyMask(mask, probability, shown, params.threshold, params.hysteresis) : mask;
  r.area = cv::countNonZero(shown) / static_cast<double>(shown.total());
  r.box = cv::boundingRect(shown);
}

Tracker::Tracker(const SegmenterParams &params) : state_(std::make_unique<State>()) {
  setParams(params);
}
Tracker::~Tracker() = default;
Tracker::Tracker(Tracker &&) noexcept = default;
Tracker &Tracker::operator=(Tracker &&) noexcept = default;

void Tracker::setModel(const Model &model) {
  state_->model = model;
}
const Model &Tracker::model() const {
  return state_->model;
}

void Tracker::setFusion(const Fusion &fusion) {
  state_->learned = fusion;
}

void Tracker::setNetwork(const Network &network) {
  state_->network = network;
}

void Tracker::setCueObserver(std::function<void(const FusionCues &)> observer) {
  state_->observer = std::move(observer);
}

void Tracker::setParams(const SegmenterParams &params) {
  checkParams(params);
  state_->params = params;
}

const SegmenterParams &Tracker::params() const {
  return state_->params;
}

namespace {

// The seed or key mask as 0/255; throws Error for one of the wrong type or size, or with no object
// pixel.
cv::Mat objectOf(const cv::Mat &image, const cv::Mat &seed_mask) {
  if (seed_mask.type() != CV_8UC1 || seed_mask.size() != image.size())
    throw Error("flagmask: the seed mask must be 8-bit single-channel at the image's size " +
                sizeText(image.size()));
  cv::Mat mask = seed_mask != 0;
  if (cv::countNonZero(mask) == 0)
    throw Error("flagmask: the seed mask has no object pixel at the working resolution");
  return mask;
}

} // namespace

Result Tracker::key(const cv::Mat &image, const cv::Mat &key_mask) {
  checkImage(image);
  const cv::Mat mask = objectOf(image, key_mask);
  if (state_->model.trained())
    state_->model.add(image, mask);
  return seed(image, mask);
}

Result Tracker::seed(const cv::Mat &image, const cv::Mat &seed_mask) {
  State &s = *state_;
  checkImage(image);
  const cv::Mat mask = objectOf(image, seed_mask);
  s.started = false;
  s.startAt(image.size());
  if (!s.model.trained())
    s.model.add(image, mask);
  cv::Mat gray, lab;
  cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  cv::cvtColor(image, lab, cv::COLOR_BGR2Lab);
  s.last_area = 0;
  s.prev_area = 0;
  cv::Mat probability;
  mask.convertTo(probability, CV_32F, 1.0 / 255);
  Result r = s.finish(lab, gray, mask, probability);
  s.shown.release(); // a seed is a new start: nothing shown to hold on to
  s.show(r, mask, probability);
  r.mask = mask;
  return r;
}

Result Tracker::process(const cv::Mat &small) {
  State &s = *state_;
  checkImage(small);
  if (s.started && small.size() != s.size)
    throw Error("flagmask: the working image's size changed from " + sizeText(s.size) +
                " without a reset");
  if (!s.started) {
    if (!s.model.trained())
      throw Error("flagmask: nothing to track: neither a seed mask nor a trained model");
    s.startAt(small.size());
  }
  cv::Mat gray, lab, appearance;
  cv::cvtColor(small, gray, cv::COLOR_BGR2GRAY);
  cv::cvtColor(small, lab, cv::COLOR_BGR2Lab);
  s.model.predictLab(lab, appearance);

  // The tracker goes on from its own decision (mask, probability). With a network, what the frame
  // shows is the network's correction of it: fed back into the carried state, the network's
  // mistakes compounded over the frames (held-out J&F 0.728 against 0.761 without it).
  cv::Mat mask, probability, shown_mask, shown_probability;
  if (s.started && !s.lost) {
    // The flow runs alone: DIS splits its own work over the cores, which it cannot do nested in
    // runBoth (OpenCV runs a nested parallel_for_ serially); beside the colour model it ran about
    // 12 % slower (core fps on five dev sequences, 2 cores). The motion evidence and the carried
    // object's distances do not split well themselves and run side by side.
    const cv::Mat carried = s.carry(gray);
    cv::Mat motion;
    std::optional<CarriedShape> shape;
    runBoth([&] { shape.emplace(carried, farthestRead(carried.size())); },
            [&] { motion = motionEvidence(s.flow_back, carried, s.params.motion_weight); });
    const cv::Mat reach = nearCarried(*shape);
    const FusionCues cues = s.cuesOf(carried, *shape, appearance, motion, gray);
    const cv::Mat fused = s.fuse(cues);
    const PieceTest pieces{shape->object, reach, cv::Mat()};
    const cv::Rect whole(cv::Point(), small.size()), reach_box = cv::boundingRect(reach);
    const cv::Rect candidates = candidateBox(fused, reach_box, whole);
    if (s.network.loaded()) {
      // The correction changes the fusion only around the candidates.
      const cv::Mat corrected = s.corrected(small, cues, fused, candidates);
      const cv::Rect searched =
          candidates.empty() ? cv::Rect() : grownBox(candidates, kNetworkMargin, small.size());
      const cv::Rect both = candidates | candidateBox(corrected, reach_box, searched);
      refinePairNearObject(s.guided, small, fused, corrected, both, probability, shown_probability);
      shown_mask = s.decide(shown_probability, pieces);
    } else {
      probability = refineNearObject(s.guided, small, fused, candidates);
    }
    mask = s.decide(probability, pieces);
  } else {
    probability = refineAlongEdges(s.guided, small, appearance);
    mask = s.redetect(probability);
    fillSmallHoles(mask);
  }
  Result r = s.finish(lab, gray, mask, probability);
  if (shown_mask.empty()) {
    shown_mask = mask;
    shown_probability = probability;
  }
  s.show(r, shown_mask, shown_probability);
  r.probability = shown_probability;
  r.mask = s.shown;
  return r;
}

void Tracker::reset() {
  restartFromModel();
  state_->last_area = 0;
}

void Tracker::restartFromModel() {
  State &s = *state_;
  s.started = false;
  s.lost = false;
  s.prev_gray.release();
  s.prev_mask.release();
  // DIS starts from the flow it is given and keeps state of its own between calls: a new one
  // makes a restart track exactly as a new tracker would.
  s.flow_back.release();
  s.flow = createFlow();
  s.shown.release();
  s.prev_area = 0;
}

bool Tracker::started() const {
  return state_->started;
}

cv::Mat steadyMask(const cv::Mat &mask, const cv::Mat &probability, const cv::Mat &shown,
                   double threshold, double margin) {
  CV_Assert(mask.type() == CV_8U && probability.type() == CV_32F && shown.type() == CV_8U &&
            mask.size() == probability.size() && shown.size() == mask.size());
  cv::Mat out(mask.size(), CV_8U);
  const float stay = static_cast<float>(threshold - margin);
  const float enter = static_cast<float>(threshold + margin);
  forRows(mask.rows, [&](int y) {
    const uchar *m = mask.ptr<uchar>(y), *was = shown.ptr<uchar>(y);
    const float *p = probability.ptr<float>(y);
    uchar *o = out.ptr<uchar>(y);
    for (int x = 0; x < mask.cols; ++x)
      o[x] = (was[x] && p[x] > stay) || (m[x] && p[x] > enter) ? 255 : 0;
  });
  return out;
}

} // namespace flagmask
