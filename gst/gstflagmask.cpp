/**
 * SECTION:element-flagmask
 * @title: flagmask
 *
 * Follows one object through a video, given a mask of it on the first frame (seed-mask) and/or an
 * appearance model trained earlier with flagmask-train (model), and writes it into every frame:
 * over a background colour (cutout), as alpha (alpha), as a white-on-black mask (mask), or
 * highlighted in the frame (overlay). Around the object, a small network learned across many
 * videos, installed with the plugin, corrects what each frame shows (network; "none" turns it
 * off).
 *
 * ## Temporal state
 * The tracker carries its state from buffer to buffer. The seed belongs to one frame: the first,
 * or the one at seed-time (stream time, the position in the media). After a new stream
 * (STREAM_START, as after EOS) tracking starts afresh from the seed (or, without one, from the
 * model alone) and the model's online adaptation is forgotten. After a flush (FLUSH_STOP, as a
 * flushing seek sends) it depends on where the next frame lies: on the frame tracking started
 * from, it starts afresh the same way, so a seek back to the start gives the first run's masks;
 * anywhere else the object is looked for by the model as adapted so far, and the seed applies
 * again when its frame comes (buffers without timestamps cannot be placed: they start afresh).
 * The state is kept across a new SEGMENT without a flush, DISCONT buffers, GAP events and jumps
 * in the timestamps (a live source dropping frames): the tracker follows the object over the jump
 * and finds it again by its model if it was lost. A new frame size goes on from the model learned
 * so far and the last frame's mask, scaled to the new size (the same picture at another
 * resolution, as adaptive-bitrate streams switch); the seed applies instead when it has not been
 * applied yet or nothing could be learned from it (a mask covering the whole frame). A new format
 * at the same size keeps the state. Formats other than those of the pad templates are refused at
 * negotiation. Frames of any size from 1x1 are accepted; a frame with a side under 16 pixels is
 * analysed scaled up to 16 on that side.
 *
 * ## Key masks
 * When the mask drifts, a mask of the object on a later frame corrects it: key-masks names a
 * folder of NNNNN.png (the mask of frame NNNNN, placed at NNNNN divided by the caps' frame rate)
 * or a list TIME:FILE,... in seconds of stream time. On each key mask's frame the output is the
 * key mask, tracking starts again from it, and the frame's colours are added to the appearance
 * model, as a model trained on several frames holds them; a seek back over a key frame applies it
 * again. Key masks alone, without a seed, start tracking at the first of them.
 *
 * ## Live streams that fall behind
 * When the sink reports frames late (QoS) and keep-up is on (the default), the frames the element
 * cannot afford to analyse get the last mask moved along the object's motion, at a few
 * milliseconds, and still go out: those already late by the last report (at most three in a row),
 * and all but one in 2 to 4 while its own work does not fit in the frame period. Every frame is
 * analysed again once there is time. GstBaseTransform's QoS drops frames only when the stream is
 * more than four frame periods behind. The per-frame message's analysis field says which frames
 * were carried.
 *
 * ## Changing properties while playing
 * Every property is read once per frame, so a frame never sees half a change. model and seed-mask
 * may name other files while playing: the streaming thread loads them before the next frame. A
 * new model replaces the appearance model and tracking goes on; a new seed mask applies to that
 * frame as to a first frame. A file that does not load gives a warning naming it and the reason,
 * and the element goes on with the files it had; so does clearing both. working-size takes effect
 * at the next start. Switching mode to alpha asks upstream for a format with alpha; when the
 * stream cannot have one (its caps pinned to I420, say) the next frame fails with an error naming
 * the mode, the format and the fix: videoconvert before and after flagmask.
 *
 * ## Bad files
 * At start, a missing file is a RESOURCE/NOT_FOUND error and a file that cannot be used (not an
 * image or a model flagmask reads, too large, damaged, a mask without object pixels) a
 * RESOURCE/OPEN_READ error, both naming the file and the reason; a seed mask covering the whole
 * frame or looking like a photograph is used and gets a warning. The full list of what is refused
 * and why is in the element reference (docs/element.md).
 *
 * ## Seeding from a box, output options, metadata, saving the model
 * Without a seed mask, seed-box (x,y,width,height) cuts the seed out of a box on the first frame
 * with grabCut; seed-mask wins when both are set. invert keeps the background instead of the
 * object and feather gives the object a soft edge, in every mode. Every buffer on which the object
 * is found carries a GstVideoRegionOfInterestMeta of type "flagmask" with its box, and with
 * post-messages the element posts a "flagmask" element message per frame (timestamps, box, area,
 * confidence, state). The model it has learned is written to model-out at EOS and at stop, or at
 * any time with the save-model action signal.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 multifilesrc location=JPEGImages/480p/bear/%05d.jpg index=0 \
 *     caps=image/jpeg,framerate=24/1 ! jpegdec ! videoconvert ! \
 *     flagmask seed-mask=Annotations/480p/bear/00000.png mode=overlay ! \
 *     videoconvert ! autovideosink
 * ]| Shows the bear of a DAVIS sequence highlighted, from the mask of its first frame.
 * |[
 * gst-launch-1.0 videotestsrc pattern=ball num-buffers=300 ! video/x-raw,width=320,height=240 ! \
 *     flagmask model=ball.yml mode=alpha ! videoconvert ! pngenc ! \
 *     multifilesink location=ball-%03d.png
 * ]| Cuts the ball out with a model trained earlier (flagmask-train) and writes transparent PNGs.
 * |[
 * gst-launch-1.0 -m videotestsrc pattern=ball num-buffers=100 ! \
 *     video/x-raw,width=320,height=240 ! videoconvert ! \
 *     flagmask seed-box=120,80,80,80 feather=4 post-messages=true model-out=ball.yml ! \
 *     videoconvert ! fakesink
 * ]| Seeds from a box around the ball, prints a message per frame and writes the model it learned
 * to ball.yml (which the line above uses).
 */
#include "gstflagmask.h"

#include "gstflagmaskframe.h"
#include "gstflagmaskpublish.h"
#include "params.h"
#include "stream.h"

#include <gst/video/video.h>

#include <mutex>
#include <new>
#include <optional>
#include <string>

GST_DEBUG_CATEGORY(gst_flag_mask_debug);
#define GST_CAT_DEFAULT gst_flag_mask_debug

// The defaults are the core's (src/params.h, src/stream.h, src/frame.h).
#define DEFAULT_PROP_MODE (static_cast<GstFlagMaskMode>(flagmask::OutputStyle{}.mode))
#define DEFAULT_PROP_BACKGROUND_COLOR (flagmask::ModeStyle{}.background_argb)
#define DEFAULT_PROP_THRESHOLD (flagmask::SegmenterParams{}.threshold)
#define DEFAULT_PROP_WORKING_SIZE (flagmask::SegmenterParams{}.working_size)
#define DEFAULT_PROP_TEMPORAL_WEIGHT (flagmask::SegmenterParams{}.temporal_weight)
#define DEFAULT_PROP_MOTION_WEIGHT (flagmask::SegmenterParams{}.motion_weight)
#define DEFAULT_PROP_ADAPT_RATE (flagmask::SegmenterParams{}.adapt_rate)
#define DEFAULT_PROP_HYSTERESIS (flagmask::SegmenterParams{}.hysteresis)
#define DEFAULT_PROP_POST_MESSAGES FALSE
#define DEFAULT_PROP_KEEP_UP TRUE
#define DEFAULT_PROP_INVERT (flagmask::OutputStyle{}.invert)
#define DEFAULT_PROP_FEATHER (flagmask::OutputStyle{}.feather)
#define DEFAULT_PROP_BACKGROUND_BLUR (flagmask::OutputStyle{}.background_blur)

enum {
  PROP_0,
  PROP_MODEL,
  PROP_SEED_MASK,
  PROP_MODE,
  PROP_BACKGROUND_COLOR,
  PROP_THRESHOLD,
  PROP_WORKING_SIZE,
  PROP_TEMPORAL_WEIGHT,
  PROP_MOTION_WEIGHT,
  PROP_ADAPT_RATE,
  PROP_HYSTERESIS,
  PROP_POST_MESSAGES,
  PROP_INVERT,
  PROP_FEATHER,
  PROP_SEED_BOX,
  PROP_MODEL_OUT,
  PROP_NETWORK,
  PROP_SEED_TIME,
  PROP_KEEP_UP,
  PROP_BACKGROUND_BLUR,
  PROP_BACKGROUND_IMAGE,
  PROP_KEY_MASKS,
};

// The network property's value that turns the refinement network off.
#define NETWORK_NONE "none"

enum {
  SIGNAL_SAVE_MODEL,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

#define ALL_FORMATS "{ RGB, BGR, RGBA, BGRA, RGBx, BGRx, xRGB, xBGR, ARGB, ABGR, I420, NV12 }"
#define ALPHA_FORMATS "{ RGBA, BGRA, ARGB, ABGR }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(ALL_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(ALL_FORMATS)));
static GstStaticCaps alpha_caps = GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(ALPHA_FORMATS));

namespace {

// What the properties say. Guarded by the object lock; copied out once per frame, so a frame never
// sees half a change.
struct Settings {
  flagmask::StreamInputs inputs; // model, seed-mask, seed-box and the network to load
  flagmask::SegmenterParams params;
  flagmask::OutputStyle output;
  std::string model_out;
  bool post_messages = DEFAULT_PROP_POST_MESSAGES;
  bool keep_up = DEFAULT_PROP_KEEP_UP;
  bool format_has_alpha = false; // of the negotiated format, for mode changes while playing
};

} // namespace

struct _GstFlagMask {
  GstVideoFilter parent;
  Settings settings; // placement-new'd in init, destroyed in finalize
  // Held while stream is used: by each frame, the events that restart tracking, set_info, start,
  // stop and save-model. basetransform lets buffers in while start() is still running (the sink
  // pad stops flushing before it calls start), so the streaming thread and start() can meet here.
  // Nothing is posted while it is held.
  std::mutex stream_lock;
  flagmask::StreamController stream;
  // The latest lateness downstream reported (QoS) since the last frame and the running time of
  // the frame it was about, for keep-up, and whether the last frame found the stream further
  // behind than keep-up catches up on soon. Guarded by the object lock.
  gboolean late_reported;
  GstClockTimeDiff late_by;
  GstClockTime late_at;
  gboolean far_behind;
};

#define gst_flag_mask_parent_class parent_class
G_DEFINE_TYPE(GstFlagMask, gst_flag_mask, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(flagmask, "flagmask", GST_RANK_NONE, GST_TYPE_FLAG_MASK);

GType gst_flag_mask_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_FLAG_MASK_MODE_CUTOUT, "The object over background-color", "cutout"},
      {GST_FLAG_MASK_MODE_ALPHA, "The object opaque, the rest transparent (RGBA, BGRA, ARGB, ABGR)",
       "alpha"},
      {GST_FLAG_MASK_MODE_MASK, "A white object on black", "mask"},
      {GST_FLAG_MASK_MODE_OVERLAY, "The frame with the background dimmed and the object outlined",
       "overlay"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstFlagMaskMode", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

// The property's values are the core's modes, in the same order.
static_assert(int(flagmask::Mode::Cutout) == GST_FLAG_MASK_MODE_CUTOUT &&
              int(flagmask::Mode::Alpha) == GST_FLAG_MASK_MODE_ALPHA &&
              int(flagmask::Mode::Mask) == GST_FLAG_MASK_MODE_MASK &&
              int(flagmask::Mode::Overlay) == GST_FLAG_MASK_MODE_OVERLAY);

static Settings copy_settings(GstFlagMask *self) {
  g_autoptr(GMutexLocker) lock = g_mutex_locker_new(GST_OBJECT_GET_LOCK(self));
  return self->settings;
}

// Runs work on the stream controller under the stream lock, then posts what it reported once the
// lock is released.
template <typename Work> static auto with_stream(GstFlagMask *self, Work work) {
  flagmask::Reports reports;
  auto result = [&] {
    const std::lock_guard<std::mutex> guard(self->stream_lock);
    return work(self->stream, reports);
  }();
  gst_flag_mask_post_reports(GST_ELEMENT(self), reports);
  return result;
}

/* ---- properties ---------------------------------------------------------------------------- */

// Whether the peer of pad can take or give a format with alpha.
static bool peer_offers_alpha(GstPad *pad) {
  g_autoptr(GstCaps) alpha = gst_static_caps_get(&alpha_caps);
  g_autoptr(GstCaps) peer = gst_pad_peer_query_caps(pad, alpha);
  return peer && !gst_caps_is_empty(peer);
}

// The formats the element accepts depend on the mode: a change asks both sides to renegotiate.
// Switching to alpha when neither the negotiated format has alpha nor both neighbours can move to
// one would only end in a bare not-negotiated error from upstream; then nothing is renegotiated
// and the next frame reports what is wrong and what to do (see StreamController::process).
static void set_mode(GstFlagMask *self, GstFlagMaskMode mode) {
  bool changed, has_alpha;
  {
    g_autoptr(GMutexLocker) lock = g_mutex_locker_new(GST_OBJECT_GET_LOCK(self));
    changed = self->settings.output.mode != flagmask::Mode(mode);
    self->settings.output.mode = flagmask::Mode(mode);
    has_alpha = self->settings.format_has_alpha;
  }
  GstBaseTransform *trans = GST_BASE_TRANSFORM(self);
  if (!changed)
    return;
  if (mode == GST_FLAG_MASK_MODE_ALPHA && !has_alpha &&
      !(peer_offers_alpha(trans->sinkpad) && peer_offers_alpha(trans->srcpad)))
    return;
  gst_base_transform_reconfigure_sink(trans);
  gst_base_transform_reconfigure_src(trans);
}

static std::string string_value(const GValue *value) {
  const gchar *s = g_value_get_string(value);
  return s ? s : "";
}

static const gchar *string_or_null(const std::string &s) {
  return s.empty() ? nullptr : s.c_str();
}

static void set_property(GstFlagMask *self, guint prop_id, const GValue *value, GParamSpec *pspec) {
  if (prop_id == PROP_MODE)
    return set_mode(self, static_cast<GstFlagMaskMode>(g_value_get_enum(value)));
  g_autoptr(GMutexLocker) lock = g_mutex_locker_new(GST_OBJECT_GET_LOCK(self));
  Settings &s = self->settings;
  switch (prop_id) {
  case PROP_MODEL:
    s.inputs.model_path = string_value(value);
    break;
  case PROP_SEED_MASK:
    s.inputs.seed_path = string_value(value);
    break;
  case PROP_SEED_BOX:
    s.inputs.seed_box = string_value(value);
    break;
  case PROP_NETWORK:
    s.inputs.network_default = g_value_get_string(value) == nullptr;
    s.inputs.network_path = s.inputs.network_default              ? flagmask::defaultNetworkPath()
                            : string_value(value) == NETWORK_NONE ? std::string()
                                                                  : string_value(value);
    break;
  case PROP_KEY_MASKS:
    s.inputs.key_masks = string_value(value);
    break;
  case PROP_SEED_TIME:
    s.inputs.seed_time = g_value_get_uint64(value) == GST_CLOCK_TIME_NONE
                             ? std::nullopt
                             : std::optional<std::int64_t>(g_value_get_uint64(value));
    break;
  case PROP_MODEL_OUT:
    s.model_out = string_value(value);
    break;
  case PROP_BACKGROUND_COLOR:
    s.output.style.background_argb = g_value_get_uint(value);
    break;
  case PROP_THRESHOLD:
    s.params.threshold = g_value_get_double(value);
    break;
  case PROP_WORKING_SIZE:
    s.params.working_size = static_cast<int>(g_value_get_uint(value));
    break;
  case PROP_TEMPORAL_WEIGHT:
    s.params.temporal_weight = g_value_get_double(value);
    break;
  case PROP_MOTION_WEIGHT:
    s.params.motion_weight = g_value_get_double(value);
    break;
  case PROP_ADAPT_RATE:
    s.params.adapt_rate = g_value_get_double(value);
    break;
  case PROP_HYSTERESIS:
    s.params.hysteresis = g_value_get_double(value);
    break;
  case PROP_POST_MESSAGES:
    s.post_messages = g_value_get_boolean(value);
    break;
  case PROP_KEEP_UP:
    s.keep_up = g_value_get_boolean(value);
    break;
  case PROP_INVERT:
    s.output.invert = g_value_get_boolean(value);
    break;
  case PROP_FEATHER:
    s.output.feather = static_cast<int>(g_value_get_uint(value));
    break;
  case PROP_BACKGROUND_BLUR:
    s.output.background_blur = static_cast<int>(g_value_get_uint(value));
    break;
  case PROP_BACKGROUND_IMAGE:
    s.output.background_image = string_value(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(self, prop_id, pspec);
    break;
  }
}

static void get_property(GstFlagMask *self, guint prop_id, GValue *value, GParamSpec *pspec) {
  g_autoptr(GMutexLocker) lock = g_mutex_locker_new(GST_OBJECT_GET_LOCK(self));
  const Settings &s = self->settings;
  switch (prop_id) {
  case PROP_MODEL:
    g_value_set_string(value, string_or_null(s.inputs.model_path));
    break;
  case PROP_SEED_MASK:
    g_value_set_string(value, string_or_null(s.inputs.seed_path));
    break;
  case PROP_SEED_BOX:
    g_value_set_string(value, string_or_null(s.inputs.seed_box));
    break;
  case PROP_NETWORK:
    g_value_set_string(value, s.inputs.network_default        ? nullptr
                              : s.inputs.network_path.empty() ? NETWORK_NONE
                                                              : s.inputs.network_path.c_str());
    break;
  case PROP_KEY_MASKS:
    g_value_set_string(value, string_or_null(s.inputs.key_masks));
    break;
  case PROP_SEED_TIME:
    g_value_set_uint64(value, s.inputs.seed_time ? static_cast<guint64>(*s.inputs.seed_time)
                                                 : GST_CLOCK_TIME_NONE);
    break;
  case PROP_MODEL_OUT:
    g_value_set_string(value, string_or_null(s.model_out));
    break;
  case PROP_MODE:
    g_value_set_enum(value, int(s.output.mode));
    break;
  case PROP_BACKGROUND_COLOR:
    g_value_set_uint(value, s.output.style.background_argb);
    break;
  case PROP_THRESHOLD:
    g_value_set_double(value, s.params.threshold);
    break;
  case PROP_WORKING_SIZE:
    g_value_set_uint(value, static_cast<guint>(s.params.working_size));
    break;
  case PROP_TEMPORAL_WEIGHT:
    g_value_set_double(value, s.params.temporal_weight);
    break;
  case PROP_MOTION_WEIGHT:
    g_value_set_double(value, s.params.motion_weight);
    break;
  case PROP_ADAPT_RATE:
    g_value_set_double(value, s.params.adapt_rate);
    break;
  case PROP_HYSTERESIS:
    g_value_set_double(value, s.params.hysteresis);
    break;
  case PROP_POST_MESSAGES:
    g_value_set_boolean(value, s.post_messages);
    break;
  case PROP_KEEP_UP:
    g_value_set_boolean(value, s.keep_up);
    break;
  case PROP_INVERT:
    g_value_set_boolean(value, s.output.invert);
    break;
  case PROP_FEATHER:
    g_value_set_uint(value, static_cast<guint>(s.output.feather));
    break;
  case PROP_BACKGROUND_BLUR:
    g_value_set_uint(value, static_cast<guint>(s.output.background_blur));
    break;
  case PROP_BACKGROUND_IMAGE:
    g_value_set_string(value, string_or_null(s.output.background_image));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(self, prop_id, pspec);
    break;
  }
}

static void gst_flag_mask_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec) {
  GstFlagMask *self = GST_FLAG_MASK(object);
  gst_flag_mask_guard(GST_ELEMENT(self), false, [&] {
    set_property(self, prop_id, value, pspec);
    return true;
  });
}

static void gst_flag_mask_get_property(GObject *object, guint prop_id, GValue *value,
                                       GParamSpec *pspec) {
  GstFlagMask *self = GST_FLAG_MASK(object);
  gst_flag_mask_guard(GST_ELEMENT(self), false, [&] {
    get_property(self, prop_id, value, pspec);
    return true;
  });
}

/* ---- saving the learned model -------------------------------------------------------------- */

// Writes model to path outside every lock (the streaming thread is not held up by the disk), and
// posts a warning naming the file and the reason when it could not.
static bool write_model(GstFlagMask *self, const std::string &path,
                        const std::optional<flagmask::Model> &model) {
  const std::optional<flagmask::Report> failure = flagmask::saveLearnedModel(path, model);
  if (failure) {
    gst_flag_mask_post_reports(GST_ELEMENT(self), {*failure});
    return false;
  }
  GST_INFO_OBJECT(self, "learned model written to '%s'", path.c_str());
  return true;
}

// The save-model action signal: any thread, any time. The model is copied under the stream lock.
static gboolean gst_flag_mask_save_model(GstFlagMask *self, const gchar *path) {
  return gst_flag_mask_guard(GST_ELEMENT(self), FALSE, [&] {
    const auto learned =
        with_stream(self, [](flagmask::StreamController &stream, flagmask::Reports &) {
          return stream.learnedModel();
        });
    return write_model(self, path ? path : "", learned) ? TRUE : FALSE;
  });
}

// model-out: at EOS and at stop, writes the learned model when frames went through the tracker
// since it was last written.
static void write_model_out(GstFlagMask *self) {
  const std::string path = copy_settings(self).model_out;
  if (path.empty())
    return;
  const auto unsaved =
      with_stream(self, [](flagmask::StreamController &stream, flagmask::Reports &) {
        return stream.takeUnsavedModel();
      });
  if (unsaved)
    write_model(self, path, unsaved);
}

/* ---- start / stop, caps and events --------------------------------------------------------- */

static gboolean gst_flag_mask_start(GstBaseTransform *trans) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  return gst_flag_mask_guard(GST_ELEMENT(self), FALSE, [&] {
    const Settings settings = copy_settings(self);
    return with_stream(self, [&](flagmask::StreamController &stream, flagmask::Reports &reports) {
      return stream.start(settings.inputs, settings.params.working_size, reports) ? TRUE : FALSE;
    });
  });
}

static gboolean gst_flag_mask_stop(GstBaseTransform *trans) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  return gst_flag_mask_guard(GST_ELEMENT(self), TRUE, [&] {
    write_model_out(self);
    const std::lock_guard<std::mutex> guard(self->stream_lock);
    self->stream.stop(); // forgets the model, the masks and what was learned
    return TRUE;
  });
}

// Output caps equal input caps; in alpha mode only formats with an alpha channel are offered.
static GstCaps *gst_flag_mask_transform_caps(GstBaseTransform *trans, GstPadDirection direction,
                                             GstCaps *caps, GstCaps *filter) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  GST_OBJECT_LOCK(self); // only the mode is read: nothing here can throw
  const bool alpha = self->settings.output.mode == flagmask::Mode::Alpha;
  GST_OBJECT_UNLOCK(self);
  GstCaps *ret;
  if (alpha) {
    GstCaps *allowed = gst_static_caps_get(&alpha_caps);
    ret = gst_caps_intersect_full(caps, allowed, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(allowed);
  } else {
    ret = gst_caps_ref(caps);
  }
  if (filter) {
    GstCaps *filtered = gst_caps_intersect_full(filter, ret, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(ret);
    ret = filtered;
  }
  GST_DEBUG_OBJECT(self, "%s direction %d: %" GST_PTR_FORMAT, alpha ? "alpha" : "any", direction,
                   ret);
  return ret;
}

static gboolean gst_flag_mask_set_info(GstVideoFilter *filter, GstCaps *, GstVideoInfo *in_info,
                                       GstCaps *, GstVideoInfo *) {
  GstFlagMask *self = GST_FLAG_MASK(filter);
  return gst_flag_mask_guard(GST_ELEMENT(self), FALSE, [&] {
    {
      g_autoptr(GMutexLocker) lock = g_mutex_locker_new(GST_OBJECT_GET_LOCK(self));
      self->settings.format_has_alpha = GST_VIDEO_INFO_HAS_ALPHA(in_info);
    }
    const cv::Size size(GST_VIDEO_INFO_WIDTH(in_info), GST_VIDEO_INFO_HEIGHT(in_info));
    return with_stream(self, [&](flagmask::StreamController &stream, flagmask::Reports &reports) {
      return stream.setFrameSize(size, reports) ? TRUE : FALSE;
    });
  });
}

// A flush (a flushing seek) or a new stream restarts tracking; at EOS the learned model is written
// before EOS goes on, so the file is there when the application sees EOS.
static gboolean gst_flag_mask_sink_event(GstBaseTransform *trans, GstEvent *event) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  const bool ok = gst_flag_mask_guard(GST_ELEMENT(self), false, [&] {
    switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_EOS:
      write_model_out(self);
      return true;
    case GST_EVENT_FLUSH_STOP:
      GST_DEBUG_OBJECT(self, "flush: tracking goes on from where the next frame lies");
      return with_stream(self, [](flagmask::StreamController &stream, flagmask::Reports &) {
        stream.flush();
        return true;
      });
    case GST_EVENT_STREAM_START:
      GST_DEBUG_OBJECT(self, "new stream: tracking restarts from the seed");
      return with_stream(self, [](flagmask::StreamController &stream, flagmask::Reports &reports) {
        return stream.restart(reports);
      });
    default:
      return true;
    }
  });
  if (!ok) {
    gst_event_unref(event);
    return FALSE;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

// Downstream's word on how late frames reach it (a QoS event) is kept for the next frame, which
// keep-up may leave unanalysed. GstBaseTransform drops frames it expects to be late (the qos
// property): with keep-up that is the last resort, so it hears of the lateness only when the
// stream is further behind than carrying frames catches up on soon; the event goes on upstream in
// every case.
static gboolean gst_flag_mask_src_event(GstBaseTransform *trans, GstEvent *event) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_QOS)
    return GST_BASE_TRANSFORM_CLASS(parent_class)->src_event(trans, event);
  GstFlagMask *self = GST_FLAG_MASK(trans);
  GstClockTimeDiff jitter = 0;
  GstClockTime at = GST_CLOCK_TIME_NONE;
  gst_event_parse_qos(event, nullptr, nullptr, &jitter, &at);
  GST_OBJECT_LOCK(self);
  if (!self->late_reported || jitter >= self->late_by) {
    self->late_by = jitter;
    self->late_at = at;
  }
  self->late_reported = TRUE;
  const bool drops_first = !self->settings.keep_up || self->far_behind;
  GST_OBJECT_UNLOCK(self);
  if (drops_first)
    return GST_BASE_TRANSFORM_CLASS(parent_class)->src_event(trans, event);
  return gst_pad_push_event(GST_BASE_TRANSFORM_SINK_PAD(trans), event);
}

/* ---- per frame ----------------------------------------------------------------------------- */

// The lateness downstream reported since the last frame, when keep-up is on and there was a report.
static void take_lateness(GstFlagMask *self, bool keep_up, flagmask::FrameTime &time) {
  g_autoptr(GMutexLocker) lock = g_mutex_locker_new(GST_OBJECT_GET_LOCK(self));
  if (keep_up && self->late_reported) {
    time.late_by = self->late_by;
    if (GST_CLOCK_TIME_IS_VALID(self->late_at))
      time.late_at = static_cast<std::int64_t>(self->late_at);
  }
  self->late_reported = FALSE;
}

static void note_far_behind(GstFlagMask *self, bool far_behind) {
  g_autoptr(GMutexLocker) lock = g_mutex_locker_new(GST_OBJECT_GET_LOCK(self));
  self->far_behind = far_behind;
}

// Where the buffer lies in the media: its stream time (which a seek does not change, unlike its
// running time) and its duration, or the frame period of the caps when it carries none; and the
// caps' frame rate (0/1 for a variable one), which places key masks named by frame number.
static flagmask::FrameTime frame_time(GstFlagMask *self, GstVideoFrame *frame) {
  flagmask::FrameTime time;
  GstBuffer *buf = frame->buffer;
  const GstSegment *segment = &GST_BASE_TRANSFORM(self)->segment;
  if (GST_BUFFER_PTS_IS_VALID(buf) && segment->format == GST_FORMAT_TIME) {
    const guint64 position =
        gst_segment_to_stream_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
    if (GST_CLOCK_TIME_IS_VALID(position))
      time.position = static_cast<std::int64_t>(position);
    const guint64 running =
        gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
    if (GST_CLOCK_TIME_IS_VALID(running))
      time.running = static_cast<std::int64_t>(running);
  }
  time.rate_num = GST_VIDEO_INFO_FPS_N(&frame->info);
  time.rate_den = GST_VIDEO_INFO_FPS_D(&frame->info);
  if (GST_BUFFER_DURATION_IS_VALID(buf))
    time.duration = static_cast<std::int64_t>(GST_BUFFER_DURATION(buf));
  else if (GST_VIDEO_INFO_FPS_N(&frame->info) > 0)
    time.duration = static_cast<std::int64_t>(gst_util_uint64_scale_int(
        GST_SECOND, GST_VIDEO_INFO_FPS_D(&frame->info), GST_VIDEO_INFO_FPS_N(&frame->info)));
  return time;
}

// Runs the frame through the stream controller under the stream lock, then, with no lock held,
// posts what it reported and publishes what it found.
static GstFlowReturn process_frame(GstFlagMask *self, GstVideoFrame *frame) {
  const Settings settings = copy_settings(self);
  flagmask::FrameView view = gst_flag_mask_frame_view(frame);
  flagmask::FrameTime time = frame_time(self, frame);
  take_lateness(self, settings.keep_up, time);
  flagmask::FrameFacts facts;
  const flagmask::FrameStatus status =
      with_stream(self, [&](flagmask::StreamController &stream, flagmask::Reports &reports) {
        return stream.process(view, time, settings.inputs, settings.params, settings.output, facts,
                              reports);
      });
  switch (status) {
  case flagmask::FrameStatus::NotStarted: // a buffer that came in while a start was failing
    return GST_FLOW_FLUSHING;
  case flagmask::FrameStatus::Failed:
    return GST_FLOW_ERROR;
  case flagmask::FrameStatus::Done:
    break;
  }
  note_far_behind(self, facts.far_behind);
  gst_flag_mask_publish_frame(GST_BASE_TRANSFORM(self), frame->buffer, facts,
                              settings.post_messages);
  return GST_FLOW_OK;
}

static GstFlowReturn gst_flag_mask_transform_frame_ip(GstVideoFilter *filter,
                                                      GstVideoFrame *frame) {
  GstFlagMask *self = GST_FLAG_MASK(filter);
  return gst_flag_mask_guard(GST_ELEMENT(self), GST_FLOW_ERROR,
                             [&] { return process_frame(self, frame); });
}

/* ---- GObject boilerplate ------------------------------------------------------------------- */

static void gst_flag_mask_finalize(GObject *object) {
  GstFlagMask *self = GST_FLAG_MASK(object);
  self->settings.~Settings();
  self->stream.~StreamController();
  self->stream_lock.~mutex();
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void install_properties(GObjectClass *gobject_class) {
  const auto ready = static_cast<GParamFlags>(G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
                                              G_PARAM_STATIC_STRINGS);
  const auto playing = static_cast<GParamFlags>(G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
                                                G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string("model", "Model",
                          "Path of an appearance model file written by flagmask-train (YAML, "
                          "optionally .gz); without seed-mask the object is found by it alone. "
                          "A new file set while playing replaces the model from the next frame",
                          nullptr, playing));
  g_object_class_install_property(
      gobject_class, PROP_SEED_MASK,
      g_param_spec_string("seed-mask", "Seed mask",
                          "Path of a mask image of the first frame, or of the frame at "
                          "seed-time (any size, scaled to the frame; non-zero pixels are the "
                          "object). A new file set while playing applies to the next frame as to "
                          "a first frame",
                          nullptr, playing));
  g_object_class_install_property(
      gobject_class, PROP_SEED_BOX,
      g_param_spec_string("seed-box", "Seed box",
                          "Box around the object on the first frame (or the frame at seed-time), "
                          "\"x,y,width,height\" in "
                          "frame pixels (clipped to the frame): without seed-mask, the seed is "
                          "cut from it by grabCut; seed-mask wins when both are set at start. A "
                          "new box set while playing re-seeds at the next frame",
                          nullptr, playing));
  g_object_class_install_property(
      gobject_class, PROP_KEY_MASKS,
      g_param_spec_string("key-masks", "Key masks",
                          "Masks of the object on later frames, to correct a drift: a folder of "
                          "NNNNN.png (the mask of frame NNNNN, counted from 0 at the start of the "
                          "media at the stream's frame rate) or a list TIME:FILE,... (stream time "
                          "in seconds). At each mask's frame tracking starts again from it and "
                          "the frame is added to the appearance model; with no seed-mask, "
                          "seed-box or model, tracking starts at the first. A new value set while "
                          "playing applies when its frames come",
                          nullptr, playing));
  g_object_class_install_property(
      gobject_class, PROP_SEED_TIME,
      g_param_spec_uint64("seed-time", "Seed time",
                          "Stream time in nanoseconds of the frame seed-mask or seed-box belongs "
                          "to (the first frame at or after it); unset (GST_CLOCK_TIME_NONE, the "
                          "largest value): the first frame. "
                          "Frames before it are tracked by the model when there is one, else "
                          "shown with nothing found. Takes effect at the next start",
                          0, G_MAXUINT64, GST_CLOCK_TIME_NONE, ready));
  g_object_class_install_property(
      gobject_class, PROP_NETWORK,
      g_param_spec_string("network", "Network",
                          "Path of the refinement network (ONNX, written by "
                          "scripts/train_network.py) that corrects what each frame shows; unset: "
                          "the network the model file names, else the one installed with the "
                          "plugin ($FLAGMASK_NETWORK when set); \"" NETWORK_NONE "\": none. A "
                          "new file set while playing is used from the next frame",
                          nullptr, playing));
  g_object_class_install_property(
      gobject_class, PROP_MODEL_OUT,
      g_param_spec_string("model-out", "Model out",
                          "Path of a file to write the learned model to (online adapted, the "
                          "format model reads) at EOS and when the element stops, if it tracked "
                          "frames since the last write; a failure gives a warning. Seed once on "
                          "a recording, then run with model= alone. See also the save-model "
                          "action signal",
                          nullptr, playing));
  g_object_class_install_property(gobject_class, PROP_MODE,
                                  g_param_spec_enum("mode", "Mode", "What to write into the frame",
                                                    GST_TYPE_FLAG_MASK_MODE, DEFAULT_PROP_MODE,
                                                    playing));
  g_object_class_install_property(
      gobject_class, PROP_BACKGROUND_COLOR,
      g_param_spec_uint("background-color", "Background color",
                        "Colour behind the object in cutout mode, as 0xAARRGGBB (alpha is "
                        "written in formats that have it); default 0xff000000, opaque black",
                        0, G_MAXUINT32, DEFAULT_PROP_BACKGROUND_COLOR, playing));
  g_object_class_install_property(
      gobject_class, PROP_THRESHOLD,
      g_param_spec_double("threshold", "Threshold",
                          "Object probability (0..1) above which a pixel is the object",
                          flagmask::kThresholdLimits.min, flagmask::kThresholdLimits.max,
                          DEFAULT_PROP_THRESHOLD, playing));
  g_object_class_install_property(
      gobject_class, PROP_WORKING_SIZE,
      g_param_spec_uint("working-size", "Working size",
                        "Longer side in pixels of the resolution the analysis runs at (frames "
                        "are scaled down to it, never up; the mask is brought back to the frame's "
                        "size along the frame's own edges)",
                        flagmask::kMinWorkingSize, flagmask::kMaxWorkingSize,
                        DEFAULT_PROP_WORKING_SIZE, ready));
  g_object_class_install_property(
      gobject_class, PROP_TEMPORAL_WEIGHT,
      g_param_spec_double("temporal-weight", "Temporal weight",
                          "Trust (0..1) in the previous mask carried along the optical flow, "
                          "against the appearance model, at the object's boundary",
                          flagmask::kWeightLimits.min, flagmask::kWeightLimits.max,
                          DEFAULT_PROP_TEMPORAL_WEIGHT, playing));
  g_object_class_install_property(
      gobject_class, PROP_MOTION_WEIGHT,
      g_param_spec_double("motion-weight", "Motion weight",
                          "Strength (0..1, 0 = off) of the evidence from pixels moving unlike the "
                          "camera: helps drop background that moves with the camera; neutral when "
                          "the object itself moves with the background",
                          flagmask::kWeightLimits.min, flagmask::kWeightLimits.max,
                          DEFAULT_PROP_MOTION_WEIGHT, playing));
  g_object_class_install_property(
      gobject_class, PROP_ADAPT_RATE,
      g_param_spec_double("adapt-rate", "Adaptation rate",
                          "How fast (0..1, 0 = never) the colour model follows the object's and "
                          "the background's changing colours, per frame. Divided by the number of "
                          "frames the model was trained on: a model trained on several frames "
                          "already knows the object's looks",
                          flagmask::kWeightLimits.min, flagmask::kWeightLimits.max,
                          DEFAULT_PROP_ADAPT_RATE, playing));
  g_object_class_install_property(
      gobject_class, PROP_HYSTERESIS,
      g_param_spec_double("hysteresis", "Hysteresis",
                          "Steadiness of the output mask: a pixel shown as object stays so while "
                          "its probability is above threshold - hysteresis, and a new pixel needs "
                          "more than threshold + hysteresis, so pixels near the threshold do not "
                          "flicker. Changes only what is shown, not what is tracked; 0 = off, "
                          "higher = steadier but slower to follow the object's changes",
                          flagmask::kHysteresisLimits.min, flagmask::kHysteresisLimits.max,
                          DEFAULT_PROP_HYSTERESIS, playing));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an element message named \"flagmask\" on the bus for every frame: "
                           "timestamp, stream-time, running-time, area (fraction of the frame), "
                           "x, y, width, height (the object's box in frame pixels, 0 when lost), "
                           "confidence (0..1), state (\"tracking\" or \"lost\") and analysis "
                           "(\"full\", or \"carried\" when keep-up left the frame unanalysed). "
                           "Takes effect from the next frame",
                           DEFAULT_PROP_POST_MESSAGES, playing));
  g_object_class_install_property(
      gobject_class, PROP_KEEP_UP,
      g_param_spec_boolean("keep-up", "Keep up",
                           "When downstream reports frames late (QoS, as a live sink with "
                           "qos=true does), move the last mask along the object's motion on the "
                           "frames that are already late, and on all but one in 2 to 4 while the "
                           "element's own work does not fit in the frame period, instead of "
                           "letting them be dropped: every frame goes out, and every frame is "
                           "analysed again once there is time. Frames are dropped (the qos "
                           "property) only when the stream is further behind than that catches "
                           "up on. Off: every frame is analysed, and late ones are dropped. Takes "
                           "effect from the next frame",
                           DEFAULT_PROP_KEEP_UP, playing));
  g_object_class_install_property(
      gobject_class, PROP_INVERT,
      g_param_spec_boolean("invert", "Invert",
                           "Keep the background and drop the object, in every mode (cutout: the "
                           "object is replaced by background-color; alpha: the object is "
                           "transparent; mask: a black object on white; overlay: the object is "
                           "dimmed). Takes effect from the next frame",
                           DEFAULT_PROP_INVERT, playing));
  g_object_class_install_property(
      gobject_class, PROP_FEATHER,
      g_param_spec_uint("feather", "Feather",
                        "Width in pixels of a soft edge on each side of the object's boundary "
                        "(inward and outward), used by every mode: cutout and overlay mix the "
                        "object with the background over it, alpha writes it as transparency, "
                        "mask as grey; 0 = a hard edge. Takes effect from the next frame",
                        0, flagmask::kMaxFeather, DEFAULT_PROP_FEATHER, playing));
  g_object_class_install_property(
      gobject_class, PROP_BACKGROUND_BLUR,
      g_param_spec_uint("background-blur", "Background blur",
                        "In cutout mode, blur what is behind the object by this radius in pixels "
                        "instead of showing background-color: the frame's own background, or "
                        "background-image when set; 0 = no blur. Takes effect from the next frame",
                        0, flagmask::kMaxBackgroundBlur, DEFAULT_PROP_BACKGROUND_BLUR, playing));
  g_object_class_install_property(
      gobject_class, PROP_BACKGROUND_IMAGE,
      g_param_spec_string(
          "background-image", "Background image",
          "In cutout mode, path of a picture (any format OpenCV reads) shown behind "
          "the object instead of background-color, scaled to the frame; unset: "
          "background-color, or the frame's own background with background-blur. "
          "Read at the next frame; a file that does not load is an error naming it",
          nullptr, playing));
}

static void gst_flag_mask_class_init(GstFlagMaskClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_flag_mask_debug, "flagmask", 0, "flagmask video object segmentation");

  gobject_class->set_property = gst_flag_mask_set_property;
  gobject_class->get_property = gst_flag_mask_get_property;
  gobject_class->finalize = gst_flag_mask_finalize;
  install_properties(gobject_class);

  /**
   * GstFlagMask::save-model:
   * @flagmask: the element
   * @path: the file to write
   *
   * Writes the model as the tracker has adapted it so far to @path (the format the model
   * property reads). Safe from any thread while playing. On failure posts a warning naming the
   * file and the reason.
   *
   * Returns: whether the file was written.
   */
  signals[SIGNAL_SAVE_MODEL] =
      g_signal_new_class_handler("save-model", G_TYPE_FROM_CLASS(klass),
                                 static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
                                 G_CALLBACK(gst_flag_mask_save_model), nullptr, nullptr, nullptr,
                                 G_TYPE_BOOLEAN, 1, G_TYPE_STRING);

  gst_element_class_set_static_metadata(
      element_class, "Video object segmentation", "Filter/Effect/Video",
      "Follows the object of a first-frame mask or a trained model through the video and cuts it "
      "out, makes the rest transparent, writes a mask or highlights it",
      "flagmask developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_flag_mask_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_flag_mask_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_flag_mask_transform_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_flag_mask_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR(gst_flag_mask_src_event);
  filter_class->set_info = GST_DEBUG_FUNCPTR(gst_flag_mask_set_info);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_flag_mask_transform_frame_ip);

  gst_type_mark_as_plugin_api(GST_TYPE_FLAG_MASK_MODE, static_cast<GstPluginAPIFlags>(0));
}

// Out of memory while making an element is fatal, as it is for GLib's own allocations; the
// exception must not unwind through GObject's C code.
static void gst_flag_mask_init(GstFlagMask *self) {
  try {
    new (&self->settings) Settings();
    self->settings.inputs.network_path = flagmask::defaultNetworkPath();
    self->settings.inputs.network_default = true;
    // Worth a word: the element still works, but below its documented accuracy (an uninstalled
    // build, say, run without $FLAGMASK_NETWORK).
    if (self->settings.inputs.network_path.empty())
      GST_WARNING_OBJECT(self, "no refinement network: none installed with the plugin and "
                               "$FLAGMASK_NETWORK unset; tracking without one");
    new (&self->stream_lock) std::mutex();
    new (&self->stream) flagmask::StreamController();
  } catch (const std::exception &e) {
    g_error("flagmask: could not make the element: %s", e.what());
  }
}
