#include "network.h"

#include "error.h"
#include "parallel.h"

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace flagmask {
namespace {

// Probabilities are kept this far from 0 and 1 before their logit is taken: the network's
// correction is added to the fusion's logit, and a fusion that is certain stays finite.
constexpr float kProbabilityFloor = 1e-3f;

// region widened to corners on multiples of the network's reduction, inside an image of this size
// (a side that ends at the image's edge is cut down to a multiple instead).
cv::Rect alignedRegion(const cv::Rect &region, cv::Size size) {
  constexpr int k = Network::kReduction;
  const auto down = [](int v) { return v / k * k; };
  const int x0 = down(region.x), y0 = down(region.y);
  const int x1 = std::min(down(size.width), down(region.br().x + k - 1));
  const int y1 = std::min(down(size.height), down(region.br().y + k - 1));
  return cv::Rect(x0, y0, std::max(0, x1 - x0), std::max(0, y1 - y0));
}

// One input plane at the network's size, written into its channel of the input: area-reduced,
// then padded on the right and bottom by repeating the edge up to a multiple of the network's
// alignment. small is scratch space kept between frames.
void fillChannel(const cv::Mat &plane, cv::Size reduced, cv::Mat &small, cv::Mat channel) {
  cv::resize(plane, small, reduced, 0, 0, cv::INTER_AREA);
  if (small.type() != CV_32F)
    small.convertTo(small, CV_32F, 1.0 / 255, -0.5);
  // channel has the padded size already, so copyMakeBorder writes into it in place.
  cv::copyMakeBorder(small, channel, 0, channel.rows - reduced.height, 0,
                     channel.cols - reduced.width, cv::BORDER_REPLICATE);
}

// Adds a correction to a probability's logit: sigmoid(log(p / (1 - p)) + c), written as
// p / (p + (1 - p) e^-c) so that a pixel costs one exponential, in place over fused's pixels.
void correctLogits(cv::Mat fused, const cv::Mat &correction) {
  forRows(fused.rows, [&](int y) {
    float *p = fused.ptr<float>(y);
    const float *c = correction.ptr<float>(y);
    for (int x = 0; x < fused.cols; ++x) {
      const float q = std::min(std::max(p[x], kProbabilityFloor), 1.0f - kProbabilityFloor);
      p[x] = q / (q + (1.0f - q) * std::exp(-c[x]));
    }
  });
}

} // namespace

std::string defaultNetworkPath() {
  if (const char *chosen = std::getenv("FLAGMASK_NETWORK"))
    return chosen;
  std::error_code ec;
  return std::filesystem::is_regular_file(FLAGMASK_INSTALLED_NETWORK, ec)
             ? FLAGMASK_INSTALLED_NETWORK
             : "";
}

struct Network::Impl {
  std::string origin;
  std::vector<unsigned char> bytes;
  cv::dnn::Net net;
  // Kept from frame to frame: allocating frame-sized buffers anew every frame cost more than the
  // network's forward pass (page faults on fresh memory).
  cv::Mat input, small, colour, correction, zeros;
  std::vector<cv::Mat> bgr;

  void open() {
    try {
      net = cv::dnn::readNetFromONNX(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    } catch (const cv::Exception &e) {
      throw Error("flagmask: cannot read the network '" + origin +
                  "': not an ONNX network OpenCV can run (" + e.err + ")");
    }
    if (net.empty())
      throw Error("flagmask: cannot read the network '" + origin + "': it holds no layers");
  }
};

Network::Network() = default;

Network Network::load(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("flagmask: cannot open the network '" + path + "'");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (bytes.empty())
    throw Error("flagmask: the network '" + path + "' is empty");
  return fromBytes(std::move(bytes), path);
}

Network Network::fromBytes(std::vector<unsigned char> bytes, const std::string &origin) {
  Network n;
  n.impl_ = std::make_shared<Impl>();
  n.impl_->origin = origin;
  n.impl_->bytes = std::move(bytes);
  n.impl_->open();
  return n;
}

bool Network::loaded() const {
  return impl_ != nullptr;
}

const std::string &Network::origin() const {
  static const std::string none;
  return impl_ ? impl_->origin : none;
}

// The network runs on the whole working image, not only on the region: its input then keeps one
// shape for the whole stream (OpenCV's dnn sets a network up again for every new input shape),
// and its cost does not depend on the object's size.
cv::Mat Network::refine(const cv::Mat &image, const FusionCues &cues, const cv::Mat &fused,
                        const cv::Rect &area) const {
  CV_Assert(impl_ && image.type() == CV_8UC3 && fused.type() == CV_32F &&
            fused.size() == image.size());
  Impl &m = *impl_;
  const cv::Rect whole = alignedRegion(cv::Rect(cv::Point(), image.size()), image.size());
  const cv::Rect region = area & whole;
  cv::Mat out = fused.clone();
  if (region.empty() || whole.width < 2 * kReduction || whole.height < 2 * kReduction)
    return out;
  const cv::Size reduced(whole.width / kReduction, whole.height / kReduction);
  const int padded_w = (reduced.width + kAlignment - 1) / kAlignment * kAlignment;
  const int padded_h = (reduced.height + kAlignment - 1) / kAlignment * kAlignment;
  m.input.create({1, kChannels, padded_h, padded_w}, CV_32F);
  const auto channel = [&](int k) {
    return cv::Mat(padded_h, padded_w, CV_32F, m.input.ptr(0, k));
  };
  // The colour is reduced in 8 bits and scaled after: the same planes to within rounding.
  cv::resize(image(whole), m.colour, reduced, 0, 0, cv::INTER_AREA);
  cv::split(m.colour, m.bgr);
  for (int k = 0; k < 3; ++k)
    fillChannel(m.bgr[k], reduced, m.small, channel(k));
  if (cues.motion.empty())
    m.zeros = cv::Mat::zeros(image.size(), CV_32F);
  const cv::Mat motion = cues.motion.empty() ? m.zeros : cues.motion;
  const cv::Mat *cue_planes[] = {&cues.carried, &cues.appearance, &motion, &fused};
  for (int k = 0; k < 4; ++k)
    fillChannel((*cue_planes[k])(whole), reduced, m.small, channel(3 + k));
  m.net.setInput(m.input);
  const cv::Mat result = m.net.forward();
  const cv::Mat correction(padded_h, padded_w, CV_32F, const_cast<float *>(result.ptr<float>()));
  cv::resize(correction(cv::Rect(cv::Point(), reduced)), m.correction, whole.size(), 0, 0,
             cv::INTER_LINEAR);
  correctLogits(out(region), m.correction(region));
  return out;
}

} // namespace flagmask
