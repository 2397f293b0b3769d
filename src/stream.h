// flagmask: the stream controller. It owns one video stream's temporal state and every piece of
// policy around it: which seed or model applies to which frame, what a change of the model,
// seed-mask or seed-box while playing does, what a flush, a new stream or a new frame size does,
// and the learned model to save. It never talks to the user itself: it returns what should be
// reported, and the caller (the GStreamer element) posts it once its locks are released, since a
// synchronous bus handler may call straight back into the element.
#pragma once

#include "frame.h"
#include "key_masks.h"
#include "model.h"
#include "pace.h"
#include "params.h"
#include "segmenter.h"
#include "worker.h"

#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flagmask {

// Something the user should be told, with the kind of trouble it is (the element maps it to a
// GStreamer error domain and code).
struct Report {
  enum class Level {
    Error,   // the stream cannot go on
    Warning, // the stream goes on, differently from what was asked
    Info,    // for the debug log only
  };
  enum class Kind {
    NotFound,  // a file that does not exist
    OpenRead,  // a file that exists but cannot be used
    OpenWrite, // a file that cannot be written
    Settings,  // a property value that cannot be used
    Format,    // the stream's format cannot show what is asked
    Failed,    // processing a frame failed
  };
  Level level = Level::Info;
  Kind kind = Kind::Failed;
  std::string text;  // for the user: names the file, box or format and the reason
  std::string debug; // details; may be empty
};
using Reports = std::vector<Report>;

// What the user named to start from (the element's model, seed-mask and seed-box properties), and
// the refinement network (its network property; empty = none). network_default says network_path
// is the default network, which a model naming a network of its own replaces. seed_time is the
// stream time of the frame the seed mask or box belongs to (the seed-time property), read at
// start; none: the first frame. key_masks names the key masks (the key-masks property; see
// keyMaskNames()): masks of later frames, each applied at its own frame.
struct StreamInputs {
  std::string model_path, seed_path, seed_box, network_path;
  bool network_default = false;
  std::optional<std::int64_t> seed_time{};
  std::string key_masks;

  // Nothing to start tracking from (a network alone is not).
  bool empty() const {
    return model_path.empty() && seed_path.empty() && seed_box.empty() && key_masks.empty();
  }
  // seed_time is left out: it takes effect at the next start, not while playing.
  bool operator==(const StreamInputs &o) const {
    return model_path == o.model_path && seed_path == o.seed_path && seed_box == o.seed_box &&
           network_path == o.network_path && network_default == o.network_default &&
           key_masks == o.key_masks;
  }
  bool operator!=(const StreamInputs &o) const { return !(*this == o); }
};

// How the object is written into the frame.
struct OutputStyle {
  Mode mode = Mode::Cutout;
  ModeStyle style;
  bool invert = false; // keep the background instead of the object
  int feather = 0;     // soft edge width in pixels, 0..kMaxFeather
  // Cutout: a picture file behind the object instead of the solid colour (empty: none), and a
  // blur of what is behind it (the picture, else the frame itself) in pixels,
  // 0..kMaxBackgroundBlur.
  std::string background_image;
  int background_blur = 0;
};

// Wider soft edges look like a blur of the whole object at the sizes people use; the cost does not
// depend on the width (a box filter over the object's box grown by it).
constexpr int kMaxFeather = 64;

// Where a frame lies in its stream, in nanoseconds: its stream time (the position in the media,
// which a seek does not change), its duration and its running time (the clock's, which QoS speaks
// in), when known; and what downstream last said about the stream's lateness (a QoS event since
// the last frame: late_by, negative when early, about the frame at running time late_at). Without
// a report every frame is analysed. rate_num/rate_den is the stream's frame rate (frames per
// second), 0/0 when unknown or variable: it places key masks named by frame number.
struct FrameTime {
  std::optional<std::int64_t> position{};
  std::optional<std::int64_t> duration{};
  std::optional<std::int64_t> running{};
  std::optional<std::int64_t> late_by{};
  std::optional<std::int64_t> late_at{};
  int rate_num = 0, rate_den = 0;
};

// What one frame found, in frame pixels.
struct FrameFacts {
  cv::Rect box; // the object's bounding box; empty when lost
  double area = 0;
  double confidence = 0;
  TrackState state = TrackState::Lost;
  bool analysed = true;    // false: carried from the last analysed frame, the stream being behind
  bool far_behind = false; // later than carrying alone catches up on soon (see Pacer::farBehind)

  bool found() const { return state == TrackState::Tracking && !box.empty(); }
};

// What a frame's processing came to.
enum class FrameStatus {
  Done,       // the output is written into the frame
  NotStarted, // start() has not succeeded: the frame is refused
  Failed,     // an error is reported; the stream cannot go on
};

// A key mask loaded: where it belongs and the mask (CV_8U 0/255 at its file's size).
struct KeyMask {
  KeyMaskName name;
  cv::Mat mask;
};

class StreamController {
public:
  // Loads what inputs name (a missing file is an error, a seed mask that will not do what its
  // author meant a warning). False, with an error reported, when the stream cannot start. The
  // working size stays until the next start.
  bool start(const StreamInputs &inputs, int working_size, Reports &reports);
  // Forgets what start() loaded and the temporal state. The network, the thread frames run on and
  // the tracker's working memory stay for the next start (see warmUp()).
  void stop();
  bool started() const { return started_; }

  // A new stream: tracking restarts from the seed (or the model alone) and the model's online
  // adaptation is forgotten.
  bool restart(Reports &reports);
  // A flush (a seek): the next frame may lie anywhere in the stream. Where it is the frame
  // tracking started from (the seed's), or where that cannot be told (no timestamps, nothing
  // learned yet), tracking restarts as after restart(), so a seek back to the start gives the
  // first run's masks. Anywhere else the object is looked for by the model as adapted so far (the
  // seed belongs to another frame), and the seed applies again when its frame comes.
  void flush();
  // The stream's frame size, once negotiated. A new size goes on from the model learned so far and
  // the last frame's mask, scaled (the same picture at another resolution, as adaptive-bitrate
  // streams switch); a seed not yet applied, or one nothing could be learned from, applies to the
  // next frame instead.
  bool setFrameSize(cv::Size size, Reports &reports);

  // One frame: takes inputs that changed since the last frame (loading files here, between two
  // frames), seeds or tracks, and writes the output into the frame in place. time places the
  // frame in the stream: a seed applies to the frame it belongs to (StreamInputs::seed_time).
  // When downstream reports frames late and this work is what does not fit in the frame period,
  // only some frames are analysed and the others carry the last answer along (see Pacer).
  FrameStatus process(FrameView &frame, const FrameTime &time, const StreamInputs &inputs,
                      const SegmenterParams &params, const OutputStyle &output, FrameFacts &facts,
                      Reports &reports);

  // A copy of the model as the tracker has adapted it so far; none when nothing was learned.
  std::optional<Model> learnedModel() const;
  // The learned model when frames went through the tracker since the last call; else none.
  std::optional<Model> takeUnsavedModel();

private:
  bool hasSeed() const;
  bool takeInputChange(const StreamInputs &wanted, cv::Size frame, Reports &reports);
  bool prepareBackdrop(const OutputStyle &output, Reports &reports);
  bool cutBoxSeed(const FrameView &frame, cv::Mat &seed, Reports &reports);
  bool placeFrame(const FrameTime &time, Reports &reports);
  bool seedAhead(const FrameTime &time) const;
  Result segment(const FrameView &frame, const SegmenterParams &params, const cv::Mat &box_seed,
                 bool seeding, const KeyMask *key, Reports &reports);
  bool startFrom(const FrameView &frame, const cv::Mat &mask);
  const KeyMask *keyMaskFor(const FrameTime &time, Reports &reports);
  bool analyseThis(const FrameTime &time, Reports &reports);
  void takeNetworkChange(const StreamInputs &wanted, Reports &reports);
  FrameStatus processHere(FrameView &frame, const FrameTime &time, const StreamInputs &inputs,
                          const SegmenterParams &params, const OutputStyle &output,
                          FrameFacts &facts, Reports &reports);
  void resetSegmenter(const Model *model);
  void forgetStream();
  void warmUp(Reports &reports);
  void warmUpHere();
  template <typename Job> auto onWorker(Job &&job);

  // What the active inputs loaded to.
  std::optional<Model> model_;       // from inputs_.model_path
  cv::Mat seed_mask_;                // CV_8U 0/255 at the mask file's size
  std::optional<cv::Rect> seed_box_; // parsed from inputs_.seed_box, not yet clipped to a frame
  Network network_;                  // from inputs_.network_path (the network in use)
  bool seed_by_box_ = false;         // the seed is cut from seed_box_, not taken from seed_mask_
  std::vector<KeyMask> key_masks_;   // from inputs_.key_masks
  bool keys_unplaced_said_ = false;  // a stream whose frames key masks cannot be placed on was said
  StreamInputs inputs_;              // the inputs in use
  StreamInputs requested_;           // the inputs last asked for (each change is acted on once)

  bool started_ = false;
  Segmenter segmenter_;
  bool seed_pending_ = false; // the seed applies to the next frame, or to its own when it is ahead
  // Stream time of the frame tracking started from: the seed's (seed-time, or the first frame's
  // when unset) or, without a seed, the first frame's. None until known.
  std::optional<std::int64_t> origin_;
  bool flushed_ = false; // the next frame follows a flush (see flush())
  // What a cutout shows behind the object when not the solid colour, and the properties it was
  // made from.
  Backdrop backdrop_;
  std::string backdrop_image_;
  int backdrop_blur_ = 0;
  cv::Mat last_mask_; // the last frame's object at the frame's size, carried to a new size
  cv::Mat handover_;  // last_mask_ after a size change: the next frame starts from it
  cv::Size frame_size_;
  int working_size_ = kDefaultWorkingSize;
  bool unsaved_ = false; // frames went through the tracker since takeUnsavedModel()
  Pacer pacer_;

  // Kept from one start to the next (see warmUp()): the thread the warm-up and the frames run on
  // (none when one could not be made: they run on the caller's) and what segmenter_'s working
  // memory was warmed up for.
  std::unique_ptr<Worker> worker_;
  struct Warmth {
    int working_size = 0;
    std::string network_path;
    bool operator==(const Warmth &o) const {
      return working_size == o.working_size && network_path == o.network_path;
    }
  };
  std::optional<Warmth> warmed_;
};

// Writes the learned model to path. The report, when there is one, is a warning naming the file
// and the reason it could not be written (no file name, nothing learned yet, no such directory, a
// directory, permission denied).
std::optional<Report> saveLearnedModel(const std::string &path, const std::optional<Model> &model);

} // namespace flagmask
