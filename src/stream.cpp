#include "stream.h"

#include "error.h"
#include "image_io.h"
#include "model_file.h"
#include "scale.h"
#include "seed_box.h"

#include <unistd.h> // access(2): whether this process may write a file

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>

namespace flagmask {
namespace {

namespace fs = std::filesystem;

// A mask holds a few values (0 and 255, or object labels). More than this and the file is likely
// a photograph or a JPEG-compressed mask, whose every pixel that is not black becomes the object.
constexpr int kMaxMaskValues = 32;

// The frame width the tracker warms up at: 1080p, the largest size streams commonly have.
constexpr int kWarmUpWidth = 1920;

Report report(Report::Level level, Report::Kind kind, std::string text, std::string debug = "") {
  return {level, kind, std::move(text), std::move(debug)};
}

Report info(std::string text) {
  return report(Report::Level::Info, Report::Kind::Failed, std::move(text));
}

bool exists(const std::string &path) {
  std::error_code error;
  return fs::exists(path, error);
}

// A file that did not load: a missing file is NotFound, one that exists but cannot be used
// OpenRead. At start it stops the stream; while playing the stream goes on with what it had.
Report loadFailure(const std::string &path, const std::string &text, Report::Level level) {
  const Report::Kind kind = exists(path) ? Report::Kind::OpenRead : Report::Kind::NotFound;
  return report(level, kind, text, "file: " + path);
}

// Runs one load; a failure is reported (naming the file and the reason) and leaves the target
// as it was. Returns whether it loaded.
template <typename Load>
bool tryLoad(const std::string &path, const char *what, Report::Level level, Reports &reports,
             Load load) {
  const std::string prefix = std::string("flagmask: could not read ") + what + " '" + path + "': ";
  try {
    load();
    return true;
  } catch (const Error &e) {
    reports.push_back(loadFailure(path, e.what(), level));
  } catch (const cv::Exception &e) {
    reports.push_back(loadFailure(path, prefix + e.err, level));
  } catch (const std::exception &e) {
    reports.push_back(loadFailure(path, prefix + e.what(), level));
  }
  return false;
}

// A seed mask that loads but will not do what its author meant: said once, then used as the rule
// says (every non-zero pixel is the object).
void warnAboutSeed(const std::string &path, const MaskInfo &mask, Reports &reports) {
  char coverage[32];
  std::snprintf(coverage, sizeof coverage, "%.1f%%", 100.0 * mask.coverage);
  if (mask.distinct_values > kMaxMaskValues)
    reports.push_back(report(
        Report::Level::Warning, Report::Kind::Settings,
        "flagmask: seed mask '" + path + "' does not look like a mask: it has " +
            std::to_string(mask.distinct_values) +
            " distinct values, as a photograph or a JPEG-compressed mask has; every pixel that is "
            "not black is taken as the object (" +
            coverage + " of the frame)",
        "a mask is 0 for the background and non-zero for the object; save it in a lossless "
        "format such as PNG"));
  else if (mask.coverage >= 1.0)
    reports.push_back(report(Report::Level::Warning, Report::Kind::Settings,
                             "flagmask: seed mask '" + path +
                                 "' marks every pixel as the object: there is no background to "
                                 "tell it from, so whole frames are kept"));
}

// Reads seed-box; a value that is not x,y,w,h is reported quoting it and saying what is wrong.
bool parseSeedBox(const std::string &text, Report::Level level, std::optional<cv::Rect> &box,
                  Reports &reports) {
  try {
    box = parseBox(text);
    return true;
  } catch (const std::exception &e) {
    const bool playing = level == Report::Level::Warning;
    reports.push_back(report(level, Report::Kind::Settings,
                             std::string("flagmask: invalid seed-box: ") + e.what(),
                             playing ? "the element goes on with the seed it had" : ""));
    return false;
  }
}

// A box set while playing must overlap the frames that are flowing; one that does not is reported
// and not taken, so tracking goes on undisturbed.
bool boxMeetsFrame(const cv::Rect &box, const std::string &text, cv::Size frame, Reports &reports) {
  if (frame.empty() || !(box & cv::Rect(cv::Point(0, 0), frame)).empty())
    return true;
  reports.push_back(report(Report::Level::Warning, Report::Kind::Settings,
                           "flagmask: seed-box '" + text + "' is empty or outside the " +
                               sizeText(frame) + " frame: nothing to cut a seed from",
                           "the element goes on with the seed it had"));
  return false;
}

// The seed cut from a box on this frame: the box clipped to the frame, then grabCut on the frame
// converted to BGR at full size (once, on a seed frame only). Throws Error naming the box and the
// reason.
cv::Mat maskFromBoxOnFrame(const FrameView &frame, const cv::Rect &box, const std::string &text) {
  const cv::Size size = frame.size();
  const cv::Rect clipped = box & cv::Rect(cv::Point(0, 0), size);
  const std::string where = "flagmask: seed-box '" + text + "' on the " + sizeText(size) + " frame";
  if (clipped.empty())
    throw Error(where + " is empty or outside the frame: nothing to cut a seed from");
  try {
    return maskFromBox(workingImage(frame, size), clipped);
  } catch (const Error &e) {
    throw Error(where + ": " + e.what());
  }
}

// The mask the mode is applied with: the object's with a soft edge feather pixels wide, or with
// invert the background's. Inverting makes a new image: the object's mask may share its pixels
// with the seed mask kept for the next restart.
SoftMask outputMask(const cv::Mat &object, const OutputStyle &output) {
  const SoftMask soft = featherMask(object, output.feather);
  return output.invert ? invertMask(soft) : soft;
}

Report alphaUnsupported(const FrameView &frame) {
  const std::string format = frame.formatName();
  return report(Report::Level::Error, Report::Kind::Format,
                "flagmask: mode alpha needs a format with an alpha channel (RGBA, BGRA, ARGB or "
                "ABGR), but the stream is " +
                    format + ": put videoconvert before and after flagmask",
                "... ! videoconvert ! flagmask mode=alpha ! videoconvert ! ...; the stream's " +
                    format + " could not be changed to a format with alpha");
}

// Why a file could not be written, in words a user can act on.
std::string writeFailureReason(const std::string &path, const std::string &fallback) {
  const fs::path parent = fs::path(path).parent_path();
  const std::string dir = parent.empty() ? "." : parent.string();
  std::error_code error;
  if (!fs::is_directory(dir, error))
    return "the directory '" + dir + "' does not exist";
  if (fs::is_directory(path, error))
    return "it is a directory";
  if (access(dir.c_str(), W_OK) != 0 || (exists(path) && access(path.c_str(), W_OK) != 0))
    return "permission denied";
  return fallback;
}

Report writeFailure(std::string text, std::string debug = "") {
  return report(Report::Level::Warning, Report::Kind::OpenWrite, std::move(text), std::move(debug));
}

bool loadModelFile(const std::string &path, Report::Level level, std::optional<Model> &model,
                   Reports &reports) {
  return tryLoad(path, "model file", level, reports, [&] { model = loadModel(path); });
}

// named_by: the model file that names the network, if it came from one (said in the report).
bool loadNetworkFile(const std::string &path, Report::Level level, Network &network,
                     Reports &reports, const std::string &named_by = "") {
  if (tryLoad(path, "network", level, reports, [&] { network = Network::load(path); }))
    return true;
  if (!named_by.empty())
    reports.back().text += " (the network the model file '" + named_by + "' names)";
  return false;
}

// The network a stream uses: the one the user named, or, in place of the default one, the one the
// model names.
std::string networkPathFor(const StreamInputs &inputs, const std::optional<Model> &model) {
  if (inputs.network_default && model && !model->network().empty())
    return model->network();
  return inputs.network_path;
}

bool loadSeedFile(const std::string &path, Report::Level level, cv::Mat &seed, Reports &reports) {
  MaskInfo mask;
  if (!tryLoad(path, "seed mask", level, reports, [&] { seed = loadMask(path, true, &mask); }))
    return false;
  warnAboutSeed(path, mask, reports);
  return true;
}

// Loads the key masks text names (see keyMaskNames()) into keys; a value that names none, or a
// mask that does not load, is reported naming it and the reason, and keys stay as they were.
bool loadKeyMasks(const std::string &text, Report::Level level, std::vector<KeyMask> &keys,
                  Reports &reports) {
  std::vector<KeyMaskName> names;
  try {
    names = keyMaskNames(text);
  } catch (const std::exception &e) {
    const bool playing = level == Report::Level::Warning;
    reports.push_back(report(level, Report::Kind::Settings, e.what(),
                             playing ? "the element goes on with the key masks it had" : ""));
    return false;
  }
  std::vector<KeyMask> loaded;
  for (const KeyMaskName &name : names) {
    KeyMask key{name, cv::Mat()};
    if (!loadSeedFile(name.path, level, key.mask, reports))
      return false;
    loaded.push_back(std::move(key));
  }
  keys = std::move(loaded);
  return true;
}

// A frame on which the object cannot be looked for yet (its seed is on a later frame and there is
// no model): nothing found.
Result nothingFound(cv::Size frame) {
  Result r;
  r.mask = cv::Mat::zeros(frame, CV_8U);
  return r;
}

} // namespace

bool StreamController::hasSeed() const {
  return seed_by_box_ ? seed_box_.has_value() : !seed_mask_.empty();
}

bool StreamController::start(const StreamInputs &inputs, int working_size, Reports &reports) {
  forgetStream();
  if (inputs.empty()) {
    reports.push_back(report(Report::Level::Error, Report::Kind::Settings,
                             "flagmask needs a seed-mask or a model, or a seed-box to cut a seed "
                             "from, or key-masks",
                             "set seed-mask to a mask of the first frame, seed-box to "
                             "x,y,width,height around the object on the first frame, model "
                             "to a file written by flagmask-train, or key-masks to masks of "
                             "frames by number or time"));
    return false;
  }
  const auto error = Report::Level::Error;
  if (!inputs.model_path.empty() && !loadModelFile(inputs.model_path, error, model_, reports))
    return false;
  if (!inputs.seed_path.empty() && !loadSeedFile(inputs.seed_path, error, seed_mask_, reports))
    return false;
  if (!inputs.seed_box.empty() && !parseSeedBox(inputs.seed_box, error, seed_box_, reports))
    return false;
  if (!inputs.key_masks.empty() && !loadKeyMasks(inputs.key_masks, error, key_masks_, reports))
    return false;
  const std::string network_path = networkPathFor(inputs, model_);
  if (network_path != inputs_.network_path) {
    network_ = Network();
    inputs_.network_path.clear();
    if (!network_path.empty() &&
        !loadNetworkFile(network_path, error, network_, reports,
                         network_path == inputs.network_path ? "" : inputs.model_path))
      return false;
  }
  seed_by_box_ = seed_mask_.empty() && seed_box_.has_value(); // the mask wins
  inputs_ = requested_ = inputs;
  inputs_.network_path = network_path;
  working_size_ = working_size;
  warmUp(reports);
  if (!restart(reports))
    return false;
  started_ = true;
  reports.push_back(info("started: model '" + inputs.model_path + "', seed mask '" +
                         inputs.seed_path + "', seed box '" + inputs.seed_box + "', " +
                         std::to_string(key_masks_.size()) + " key masks, network '" +
                         network_path + "'"));
  return true;
}

void StreamController::stop() {
  forgetStream();
}

// Forgets the stream and what start() loaded, and keeps what outlives a stop: the network (state
// changes come often, a player's stop and play, and reading it is the slowest part of a start),
// the worker thread and the tracker with its working memory, with nothing learned left in it.
void StreamController::forgetStream() {
  Network network = std::move(network_);
  const std::string network_path = inputs_.network_path;
  std::unique_ptr<Worker> worker = std::move(worker_);
  Segmenter segmenter = std::move(segmenter_);
  const std::optional<Warmth> warmed = warmed_;
  *this = StreamController();
  network_ = std::move(network); // kept through a start that fails before the network is looked at
  inputs_.network_path = network_path;
  worker_ = std::move(worker);
  segmenter_ = std::move(segmenter);
  warmed_ = warmed;
  resetSegmenter(nullptr);
}

// Runs job on the worker thread, or here when there is none.
template <typename Job> auto StreamController::onWorker(Job &&job) {
  return worker_ ? worker_->run(std::forward<Job>(job)) : job();
}

// The first frames of a stream paid for work done once: OpenCV fills its colour conversion
// tables on first use (about 100 ms in a process for BGR to Lab), the network sets itself up for
// its input's shape, and every image the tracker keeps from frame to frame is new memory, whose
// first touch is a page fault per page (40-57 ms of a first 1080p frame, against 11-16 ms for the
// frames after it). Paid by the first frames, that work made every live stream drop frames at its
// start. Here, at start, no frame waits for it: the stream's own tracker, on the thread its frames
// will run on, follows a large square through textured I420 frames of 1080p (or of twice the
// working size when that is larger), so the reduction, the conversion, the flow, the network at
// the shape a 16:9 stream gives it and the upsampling back to the frame have all run, and their
// images stay allocated for the stream's (restart() resets the tracker in place). Done once per
// working size and network: the tracker keeps its memory from one start to the next.
void StreamController::warmUp(Reports &reports) {
  const Warmth wanted{working_size_, inputs_.network_path};
  if (warmed_ == wanted)
    return;
  if (!worker_) {
    try {
      worker_ = std::make_unique<Worker>();
    } catch (const std::exception &e) { // the frames run on the caller's thread instead
      reports.push_back(info(std::string("no thread of its own: ") + e.what()));
    }
  }
  try {
    onWorker([&] { warmUpHere(); });
    warmed_ = wanted;
  } catch (const std::exception &e) { // only time is lost: the first frames pay instead
    reports.push_back(info(std::string("warming up failed: ") + e.what()));
  }
}

void StreamController::warmUpHere() {
  resetSegmenter(nullptr);
  SegmenterParams params;
  params.working_size = working_size_;
  segmenter_.setParams(params);
  const int width = std::max(kWarmUpWidth, 2 * working_size_) / 2 * 2;
  const int height = std::max(kMinWorkingSide, width * 9 / 16) / 2 * 2;
  // Textured and moving, so that the flow, the camera's motion fit and the network all work.
  cv::Mat texture(height, width, CV_8U);
  cv::RNG(1).fill(texture, cv::RNG::UNIFORM, 30, 90);
  const cv::Mat u(height / 2, width / 2, CV_8U, cv::Scalar(140));
  const cv::Mat v(height / 2, width / 2, CV_8U, cv::Scalar(110));
  for (int step = 0; step < 3; ++step) {
    cv::Mat y = texture.clone(), seed = cv::Mat::zeros(y.size(), CV_8U);
    // Three quarters of each side: the work around the object covers about the whole frame.
    const cv::Rect object(width / 8 + 4 * step, height / 8, width * 3 / 4, height * 3 / 4);
    y(object).setTo(170);
    seed(object).setTo(255);
    const FrameView frame = FrameView::fromI420(y, u, v, YuvMatrix::bt709());
    if (step == 0)
      segmenter_.seed(frame, seed);
    else
      segmenter_.process(frame);
  }
  resetSegmenter(nullptr); // nothing of the square stays
}

// The tracker, its working memory kept, with nothing of the last stream left: the model given
// (or none) and the network in use.
void StreamController::resetSegmenter(const Model *model) {
  segmenter_.setModel(model ? *model : Model());
  segmenter_.setNetwork(network_);
  segmenter_.reset();
}

bool StreamController::restart(Reports &reports) {
  try {
    resetSegmenter(model_ ? &*model_ : nullptr);
  } catch (const std::exception &e) {
    reports.push_back(report(Report::Level::Error, Report::Kind::Failed,
                             std::string("flagmask: could not restart tracking: ") + e.what()));
    return false;
  }
  seed_pending_ = hasSeed();
  origin_ = hasSeed() ? inputs_.seed_time : std::nullopt;
  flushed_ = false;
  last_mask_.release();
  handover_.release();
  pacer_.reset();
  return true;
}

void StreamController::flush() {
  flushed_ = true;
  pacer_.reset();      // what was late belongs to the stream before the flush
  handover_.release(); // the last frame's mask belongs to another place in the stream
}

namespace {

bool knownRate(const FrameTime &time) {
  return time.rate_num > 0 && time.rate_den > 0;
}

// How far from a frame's stream time another still names the same frame: half a frame period.
std::int64_t sameFrameTolerance(const FrameTime &time) {
  constexpr std::int64_t kUnknownPeriod = 2'000'000; // 2 ms: times must match
  if (time.duration && *time.duration > 0)
    return *time.duration / 2;
  return knownRate(time) ? frameTime(1, time.rate_num, time.rate_den) / 2 : kUnknownPeriod / 2;
}

std::string timeText(std::int64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f s", ns / 1e9);
  return text;
}

} // namespace

// The seed applies to its own frame, and that frame lies ahead of this one.
bool StreamController::seedAhead(const FrameTime &time) const {
  return seed_pending_ && origin_ && time.position &&
         *time.position < *origin_ - sameFrameTolerance(time);
}

// After a flush, where tracking goes on from: see flush().
bool StreamController::placeFrame(const FrameTime &time, Reports &reports) {
  if (!flushed_)
    return true;
  flushed_ = false;
  const bool at_origin = !origin_ || !time.position ||
                         std::llabs(*time.position - *origin_) <= sameFrameTolerance(time);
  if (at_origin || !segmenter_.model().trained())
    return restart(reports);
  reports.push_back(info("resuming at " + timeText(*time.position) +
                         ": the object is looked for by the model learned so far"));
  segmenter_.restartFromModel();
  seed_pending_ = hasSeed() && *time.position < *origin_;
  return true;
}

// The key mask that belongs to this frame (its time within half a frame of the frame's), if any.
// Frames without a stream time, or key masks named by frame number on a stream without a fixed
// frame rate, cannot be placed: said once, and tracking goes on without them.
const KeyMask *StreamController::keyMaskFor(const FrameTime &time, Reports &reports) {
  if (key_masks_.empty())
    return nullptr;
  const bool by_number = key_masks_.front().name.frame.has_value();
  if (!time.position || (by_number && !knownRate(time))) {
    if (!keys_unplaced_said_)
      reports.push_back(report(
          Report::Level::Warning, Report::Kind::Format,
          "flagmask: key-masks '" + inputs_.key_masks + "' cannot be placed on this stream: " +
              (time.position ? "masks named by frame number need a fixed frame rate"
                             : "its frames carry no timestamps"),
          by_number ? "name the masks by stream time instead: TIME:FILE,..." : ""));
    keys_unplaced_said_ = true;
    return nullptr;
  }
  const std::int64_t tolerance = sameFrameTolerance(time);
  for (const KeyMask &key : key_masks_) {
    const std::int64_t at =
        key.name.frame ? frameTime(*key.name.frame, time.rate_num, time.rate_den) : *key.name.time;
    if (std::llabs(*time.position - at) <= tolerance)
      return &key;
  }
  return nullptr;
}

bool StreamController::setFrameSize(cv::Size size, Reports &reports) {
  if (!frame_size_.empty() && size != frame_size_) {
    try {
      const Model learned = segmenter_.model();
      // The same picture at another size: the last frame's object, scaled, is where this one
      // starts. Nothing learned (a seed covering the whole frame leaves no background to learn
      // from): only the seed can start the tracking again.
      const bool carry = learned.trained() && !seed_pending_ && segmenter_.started() &&
                         !last_mask_.empty() && cv::countNonZero(last_mask_) > 0;
      resetSegmenter(&learned);
      handover_ = carry ? last_mask_ : cv::Mat();
      if (!learned.trained() && hasSeed())
        seed_pending_ = true;
      reports.push_back(
          info("frame size changed to " + sizeText(size) +
               (carry ? ": tracking goes on from the last mask, scaled" : ": tracking restarts")));
    } catch (const std::exception &e) {
      reports.push_back(report(Report::Level::Error, Report::Kind::Failed, e.what()));
      return false;
    }
  }
  frame_size_ = size;
  return true;
}

// A network named while playing (by the network property, or by a new model while the property is
// unset): used from the next frame on; one that cannot be loaded is reported and the one in use
// stays.
void StreamController::takeNetworkChange(const StreamInputs &wanted, Reports &reports) {
  const std::string path = networkPathFor(wanted, model_);
  if (path == inputs_.network_path)
    return;
  const std::string named_by = path == wanted.network_path ? "" : inputs_.model_path;
  Network network;
  if (!path.empty() && !loadNetworkFile(path, Report::Level::Warning, network, reports, named_by))
    return;
  reports.push_back(info("network now '" + path + "'"));
  network_ = network;
  inputs_.network_path = path;
  segmenter_.setNetwork(network_);
}

// model, seed-mask, seed-box or network changed while playing: loads the files here, between two
// frames, and takes what loaded (the network, or the new model's network, as takeNetworkChange
// says). A new model replaces the appearance model and tracking goes on; a new seed mask or box
// applies to this frame as to a first frame (the one set last: the mask when both changed between
// the same two frames; a cleared one gives way to the other). A file or box that cannot be used is
// reported and the stream goes on with what it had.
bool StreamController::takeInputChange(const StreamInputs &wanted, cv::Size frame,
                                       Reports &reports) {
  requested_ = wanted; // reported once, whatever the outcome
  const auto warning = Report::Level::Warning;
  std::optional<Model> model;
  cv::Mat seed;
  std::optional<cv::Rect> box;
  const bool take_model =
      wanted.model_path != inputs_.model_path &&
      (wanted.model_path.empty() || loadModelFile(wanted.model_path, warning, model, reports));
  const bool take_seed =
      wanted.seed_path != inputs_.seed_path &&
      (wanted.seed_path.empty() || loadSeedFile(wanted.seed_path, warning, seed, reports));
  const bool take_box =
      wanted.seed_box != inputs_.seed_box &&
      (wanted.seed_box.empty() || (parseSeedBox(wanted.seed_box, warning, box, reports) &&
                                   boxMeetsFrame(*box, wanted.seed_box, frame, reports)));
  std::vector<KeyMask> keys;
  const bool take_keys =
      wanted.key_masks != inputs_.key_masks &&
      (wanted.key_masks.empty() || loadKeyMasks(wanted.key_masks, warning, keys, reports));
  const bool has_model = take_model ? model.has_value() : model_.has_value();
  const bool has_mask = take_seed ? !seed.empty() : !seed_mask_.empty();
  const bool has_box = take_box ? box.has_value() : seed_box_.has_value();
  const bool has_keys = take_keys ? !keys.empty() : !key_masks_.empty();
  if (!has_model && !has_mask && !has_box && !has_keys) {
    takeNetworkChange(wanted, reports);
    reports.push_back(report(warning, Report::Kind::Settings,
                             "flagmask needs a seed-mask or a model, or a seed-box or key-masks: "
                             "going on with model '" +
                                 inputs_.model_path + "', seed mask '" + inputs_.seed_path +
                                 "', seed box '" + inputs_.seed_box + "' and key masks '" +
                                 inputs_.key_masks + "'"));
    return true;
  }
  if (take_keys) { // each applies when its frame comes; tracking goes on until then
    reports.push_back(info("key masks now '" + wanted.key_masks + "'"));
    key_masks_ = std::move(keys);
    inputs_.key_masks = wanted.key_masks;
    keys_unplaced_said_ = false;
  }
  if (take_model) {
    reports.push_back(info("model now '" + wanted.model_path + "'"));
    model_ = std::move(model);
    inputs_.model_path = wanted.model_path;
    if (model_)
      segmenter_.setModel(*model_);
  }
  takeNetworkChange(wanted, reports);
  if (take_seed) {
    reports.push_back(info("seed mask now '" + wanted.seed_path + "'"));
    seed_mask_ = seed;
    inputs_.seed_path = wanted.seed_path;
  }
  if (take_box) {
    reports.push_back(info("seed box now '" + wanted.seed_box + "'"));
    seed_box_ = box;
    inputs_.seed_box = wanted.seed_box;
  }
  const bool new_mask = take_seed && !seed_mask_.empty();
  const bool new_box = take_box && seed_box_.has_value();
  if (new_mask)
    seed_by_box_ = false;
  else if (new_box)
    seed_by_box_ = true;
  else if (take_seed || take_box)
    seed_by_box_ = seed_mask_.empty() && seed_box_.has_value();
  if (!(new_mask || new_box))
    return true;
  if (!restart(reports))
    return false;
  origin_.reset(); // a seed set while playing belongs to the frame it is applied to
  return true;
}

// The backdrop the background-image and background-blur properties ask for, made anew when they
// change. A picture that does not load is an error naming the file. Returns false after reporting
// it.
bool StreamController::prepareBackdrop(const OutputStyle &output, Reports &reports) {
  if (output.background_image == backdrop_image_ && output.background_blur == backdrop_blur_)
    return true;
  cv::Mat picture;
  if (!output.background_image.empty() &&
      !tryLoad(output.background_image, "background image", Report::Level::Error, reports, [&] {
        try {
          picture = loadFrame(output.background_image);
        } catch (const Error &e) {
          throw Error("flagmask: background-image '" + output.background_image +
                      "' cannot be shown: " + e.what());
        }
      }))
    return false;
  backdrop_ = Backdrop(picture, output.background_blur);
  backdrop_image_ = output.background_image;
  backdrop_blur_ = output.background_blur;
  return true;
}

// When this frame is the seed's frame and the seed comes from seed-box, cuts the seed. A box that
// gives no seed is an error when there is nothing else to track with, and a warning when the
// tracker can go on from a trained model. Returns false after reporting an error.
bool StreamController::cutBoxSeed(const FrameView &frame, cv::Mat &seed, Reports &reports) {
  if (!seed_pending_ || !seed_by_box_)
    return true;
  try {
    seed = maskFromBoxOnFrame(frame, *seed_box_, inputs_.seed_box);
    for (const std::string &warning : boxSeedWarnings(*seed_box_, frame.size(), seed))
      reports.push_back(report(Report::Level::Warning, Report::Kind::Settings,
                               "flagmask: seed-box: " + warning,
                               "the seed cut from the box is used as it is"));
    return true;
  } catch (const Error &e) {
    if (!segmenter_.model().trained()) {
      reports.push_back(report(Report::Level::Error, Report::Kind::Settings, e.what(),
                               "draw the box around the object, inside the frame"));
      return false;
    }
    reports.push_back(report(Report::Level::Warning, Report::Kind::Settings, e.what(),
                             "tracking goes on from the model"));
    seed_pending_ = false;
    return true;
  }
}

// The object at the frame's size: on a key mask's frame the key mask; after a size change, the
// last mask carried over and tracked on; on the seed's frame the seed; before it, what the model
// finds, or nothing when there is no model yet; else the tracker's answer.
Result StreamController::segment(const FrameView &frame, const SegmenterParams &params,
                                 const cv::Mat &box_seed, bool seeding, const KeyMask *key,
                                 Reports &reports) {
  SegmenterParams fixed = params;
  fixed.working_size = working_size_;
  segmenter_.setParams(fixed);
  if (key) {
    try {
      Result keyed = segmenter_.key(frame, key->mask);
      handover_.release(); // the key mask is this frame's object, whatever the last size showed
      return keyed;
    } catch (const Error &e) {
      reports.push_back(
          report(Report::Level::Warning, Report::Kind::Settings,
                 "flagmask: key mask '" + key->name.path + "' not applied: " + e.what(),
                 "tracking goes on as before"));
    }
  }
  if (!handover_.empty()) {
    const cv::Mat carried = handover_;
    handover_.release();
    if (startFrom(frame, carried))
      return segmenter_.process(frame);
  }
  if (seeding && seed_pending_) {
    seed_pending_ = false;
    return segmenter_.seed(frame, seed_by_box_ ? box_seed : seed_mask_);
  }
  if (!segmenter_.started() && !segmenter_.model().trained())
    return nothingFound(frame.size());
  return segmenter_.process(frame);
}

// Whether the pacer has this frame analysed, for the stream's lateness.
bool StreamController::analyseThis(const FrameTime &time, Reports &reports) {
  if (time.late_by)
    pacer_.reportLateness(*time.late_by, time.late_at);
  const int interval = pacer_.interval();
  const bool paced = pacer_.analyseNext(time.duration, time.running);
  if (pacer_.interval() != interval)
    reports.push_back(info(pacer_.interval() > 1 ? "the stream is behind: analysing one frame in " +
                                                       std::to_string(pacer_.interval())
                                                 : "the stream keeps up again: analysing every "
                                                   "frame"));
  return paced;
}

// Starts tracking from mask on this frame; false when the mask is too small to be seen at the
// working size (the model then looks for the object).
bool StreamController::startFrom(const FrameView &frame, const cv::Mat &mask) {
  try {
    segmenter_.seed(frame, mask);
    return true;
  } catch (const Error &) {
    return false;
  }
}

FrameStatus StreamController::process(FrameView &frame, const FrameTime &time,
                                      const StreamInputs &inputs, const SegmenterParams &params,
                                      const OutputStyle &output, FrameFacts &facts,
                                      Reports &reports) {
  // On the thread the warm-up ran on, whose memory it warmed (see warmUp()).
  return onWorker([&] { return processHere(frame, time, inputs, params, output, facts, reports); });
}

FrameStatus StreamController::processHere(FrameView &frame, const FrameTime &time,
                                          const StreamInputs &inputs, const SegmenterParams &params,
                                          const OutputStyle &output, FrameFacts &facts,
                                          Reports &reports) {
  if (!started_) // a frame that came in while a start was failing
    return FrameStatus::NotStarted;
  if (output.mode == Mode::Alpha && !frame.hasAlpha()) {
    reports.push_back(alphaUnsupported(frame));
    return FrameStatus::Failed;
  }
  try {
    if (inputs != requested_ && !takeInputChange(inputs, frame.size(), reports))
      return FrameStatus::Failed;
    if (!placeFrame(time, reports) || !prepareBackdrop(output, reports))
      return FrameStatus::Failed;
    const KeyMask *key = keyMaskFor(time, reports);
    if (key && !seedAhead(time)) // the key mask is this frame's object: the seed's frame is past
      seed_pending_ = false;
    const bool seeding = seed_pending_ && handover_.empty() && !seedAhead(time);
    cv::Mat box_seed;
    if (seeding && !cutBoxSeed(frame, box_seed, reports))
      return FrameStatus::Failed;
    const auto began = std::chrono::steady_clock::now();
    // A frame that starts something (a seed, a new size, a seek) is analysed whatever the pace,
    // and its cost (a seed trains the model) says nothing about the frames after it.
    const bool starts = key || seeding || !handover_.empty() || !segmenter_.canCarry();
    const bool analyse = analyseThis(time, reports) || starts;
    const Result result =
        analyse ? segment(frame, params, box_seed, seeding, key, reports) : segmenter_.carry(frame);
    if (output.mode == Mode::Cutout && backdrop_.active())
      backdrop_.apply(frame, outputMask(result.mask, output));
    else
      applyMode(frame, outputMask(result.mask, output), output.mode, output.style);
    if (!starts)
      pacer_.finished(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(), analyse);
    facts = {result.box, result.area, result.confidence, result.state, analyse, pacer_.farBehind()};
    last_mask_ = result.mask;
    if (!origin_) // the frame tracking started from
      origin_ = time.position;
    unsaved_ = true;
    return FrameStatus::Done;
  } catch (const cv::Exception &e) {
    reports.push_back(report(Report::Level::Error, Report::Kind::Failed,
                             "flagmask: OpenCV failed: " + e.err, e.what()));
  } catch (const std::exception &e) {
    reports.push_back(report(Report::Level::Error, Report::Kind::Failed, e.what()));
  }
  return FrameStatus::Failed;
}

std::optional<Model> StreamController::learnedModel() const {
  const Model &model = segmenter_.model();
  if (!model.trained())
    return std::nullopt;
  return model; // a deep copy
}

std::optional<Model> StreamController::takeUnsavedModel() {
  if (!unsaved_)
    return std::nullopt;
  unsaved_ = false;
  return learnedModel();
}

std::optional<Report> saveLearnedModel(const std::string &path, const std::optional<Model> &model) {
  if (path.empty())
    return writeFailure("flagmask: could not save the model: no file name given");
  if (!model)
    return writeFailure("flagmask: could not save the model to '" + path +
                        "': nothing has been learned yet (a model is learned from the seed on the "
                        "first frame, or loaded from the model property)");
  try {
    saveModel(*model, path);
    return std::nullopt;
  } catch (const std::exception &e) {
    return writeFailure("flagmask: could not save the model to '" + path +
                            "': " + writeFailureReason(path, e.what()),
                        e.what());
  }
}

} // namespace flagmask
