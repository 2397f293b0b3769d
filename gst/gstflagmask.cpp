/**
 * SECTION:element-flagmask
 * @title: flagmask
 *
 * Follows one object through a video, given a mask of it on the first frame (seed-mask) and/or an
 * appearance model trained earlier with flagmask-train (model), and writes it into every frame:
 * over a background colour (cutout), as alpha (alpha), as a white-on-black mask (mask), or
 * highlighted in the frame (overlay).
 *
 * ## Temporal state
 * The tracker carries its state from buffer to buffer. It starts afresh, from the seed mask (or,
 * without one, from the model alone), on the first frame after a flush (FLUSH_STOP, as a flushing
 * seek sends) and after a new stream (STREAM_START, as after EOS); that also forgets the model's
 * online adaptation, so a seek back to the start gives the first run's masks. The state is kept
 * across a new SEGMENT without a flush, DISCONT buffers, GAP events and jumps in the timestamps (a
 * live source dropping frames): the tracker follows the object over the jump and finds it again by
 * its model if it was lost. A new frame size restarts tracking with the model learned so far (the
 * seed belongs to the first frame of the old size; it applies again only when nothing could be
 * learned from it, as from a mask covering the whole frame). A new format at the same size keeps
 * the state. Formats other than those of the pad templates are refused at negotiation.
 *
 * ## Changing properties while playing
 * Every property is read once per frame, so a frame never sees half a change. model and seed-mask
 * may name other files while playing: the streaming thread loads them before the next frame. A
 * new model replaces the appearance model and tracking goes on; a new seed mask applies to that
 * frame as to a first frame. A file that does not load gives a warning naming it and the reason,
 * and the element goes on with the files it had; so does clearing both. working-size takes effect
 * at the next start.
 *
 * ## Bad files
 * At start, a missing file is a RESOURCE/NOT_FOUND error and a file that cannot be used a
 * RESOURCE/OPEN_READ error, both naming the file and the reason: unreadable, a directory, empty,
 * too large (a model over 64 MB, or over 64 MB once decompressed; an image whose header declares
 * more than 8192x4096 pixels is refused from the header, before anything is allocated), not an
 * image in a format flagmask reads (PNG, JPEG, BMP, TIFF, WebP, PNM/PAM/PFM), not a flagmask
 * model (YAML of another shape or format, another version, histograms of the wrong size or with
 * invalid counts), or a mask without object pixels. Every non-zero pixel of a seed mask is the
 * object; a mask covering the whole frame, or one that looks like a photograph (more than 32
 * distinct values), is used so and gets a warning saying what will happen.
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

#include "error.h"
#include "frame.h"
#include "guided.h"
#include "image_io.h"
#include "model.h"
#include "model_file.h"
#include "seed_box.h"
#include "segmenter.h"

#include <glib/gstdio.h>
#include <gst/video/video.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <unistd.h> // W_OK

#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <string>

GST_DEBUG_CATEGORY_STATIC(gst_flag_mask_debug);
#define GST_CAT_DEFAULT gst_flag_mask_debug

#define DEFAULT_PROP_MODEL nullptr
#define DEFAULT_PROP_SEED_MASK nullptr
#define DEFAULT_PROP_SEED_BOX nullptr
#define DEFAULT_PROP_MODEL_OUT nullptr
#define DEFAULT_PROP_MODE GST_FLAG_MASK_MODE_CUTOUT
#define DEFAULT_PROP_BACKGROUND_COLOR 0xff000000u
#define DEFAULT_PROP_THRESHOLD 0.5
#define DEFAULT_PROP_WORKING_SIZE 480u
#define DEFAULT_PROP_TEMPORAL_WEIGHT (flagmask::SegmenterParams{}.temporal_weight)
#define DEFAULT_PROP_MOTION_WEIGHT (flagmask::SegmenterParams{}.motion_weight)
#define DEFAULT_PROP_ADAPT_RATE (flagmask::SegmenterParams{}.adapt_rate)
#define DEFAULT_PROP_HYSTERESIS (flagmask::SegmenterParams{}.hysteresis)
#define DEFAULT_PROP_POST_MESSAGES FALSE
#define DEFAULT_PROP_INVERT FALSE
#define DEFAULT_PROP_FEATHER 0u

#define MIN_WORKING_SIZE 64u
#define MAX_WORKING_SIZE 4096u
// Wider soft edges look like a blur of the whole object at the sizes people use; the cost does not
// depend on it (a box filter over the object's box grown by it).
#define MAX_FEATHER 64u

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
};

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

// What the properties say. Guarded by the object lock; copied out once per frame.
struct Settings {
  std::string model_path;
  std::string seed_path;
  std::string seed_box; // as the user wrote it; parsed by the streaming thread
  std::string model_out;
  GstFlagMaskMode mode = DEFAULT_PROP_MODE;
  guint background_color = DEFAULT_PROP_BACKGROUND_COLOR;
  gdouble threshold = DEFAULT_PROP_THRESHOLD;
  guint working_size = DEFAULT_PROP_WORKING_SIZE;
  gdouble temporal_weight = DEFAULT_PROP_TEMPORAL_WEIGHT;
  gdouble motion_weight = DEFAULT_PROP_MOTION_WEIGHT;
  gdouble adapt_rate = DEFAULT_PROP_ADAPT_RATE;
  gdouble hysteresis = DEFAULT_PROP_HYSTERESIS;
  bool post_messages = DEFAULT_PROP_POST_MESSAGES;
  bool invert = DEFAULT_PROP_INVERT;
  guint feather = DEFAULT_PROP_FEATHER;
  bool format_has_alpha = false; // of the negotiated format, for mode changes while playing
  guint inputs_generation = 0;   // bumped when model, seed-mask or seed-box changes
};

// The tracker and what it starts from. Used by the streaming thread and start/stop, always under
// stream_lock.
struct Stream {
  std::optional<flagmask::Model> model; // loaded from the model property
  cv::Mat seed_mask;                    // CV_8U 0/255 at the mask file's size
  std::string model_path, seed_path;    // the files model and seed_mask came from
  std::optional<cv::Rect> seed_box;     // parsed from seed-box (not yet clipped to a frame)
  std::string seed_box_text;            // the seed-box it came from
  bool seed_by_box = false;             // the seed is cut from seed_box, not taken from seed_mask
  guint inputs_generation = 0;          // the Settings::inputs_generation they stand for
  bool started = false;                 // start() loaded the inputs
  flagmask::Segmenter segmenter;
  flagmask::GuidedUpsampler upsampler; // brings the working-size mask to the frame's size
  cv::Mat guide_small;                 // the upsampler's guide at working size
  bool seed_pending = false; // the next frame is a first frame: the seed mask applies to it
  cv::Size frame_size;
  int working_size = DEFAULT_PROP_WORKING_SIZE; // fixed from start to stop: the state lives there
  bool unsaved = false; // frames went through the tracker since model-out was last written
};

// What a frame found, handed from transform_frame_ip (under stream_lock) to transform_ip, which
// publishes it after the lock is released: a message must not be posted under a lock, since a
// synchronous bus handler may call back into the element.
struct FrameOutcome {
  bool valid = false;        // the frame went through the tracker
  bool post_message = false; // post-messages was set for this frame
  flagmask::Result result;   // box (in frame pixels), area, confidence, state; no mask
};

} // namespace

struct _GstFlagMask {
  GstVideoFilter parent;
  Settings settings; // placement-new'd in init, destroyed in finalize
  Stream stream;
  // Held while stream is used: by each frame, the events that restart tracking, set_info, start
  // and stop. basetransform lets buffers in while start() is still running (the sink pad stops
  // flushing before it calls start), so the streaming thread and start() can meet here.
  std::mutex stream_lock;
  FrameOutcome outcome; // written and read by the streaming thread only (see FrameOutcome)
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

/* ---- helpers between GStreamer and the core ------------------------------------------------- */

static flagmask::Mode core_mode(GstFlagMaskMode mode) {
  switch (mode) {
  case GST_FLAG_MASK_MODE_ALPHA:
    return flagmask::Mode::Alpha;
  case GST_FLAG_MASK_MODE_MASK:
    return flagmask::Mode::Mask;
  case GST_FLAG_MASK_MODE_OVERLAY:
    return flagmask::Mode::Overlay;
  case GST_FLAG_MASK_MODE_CUTOUT:
  default:
    return flagmask::Mode::Cutout;
  }
}

// The plane as a cv::Mat over the frame's memory, with its real stride. For the formats we accept,
// plane i holds component i (NV12's plane 1 holds U and V).
static cv::Mat plane_mat(GstVideoFrame *frame, guint plane, int channels) {
  return cv::Mat(GST_VIDEO_FRAME_COMP_HEIGHT(frame, plane),
                 GST_VIDEO_FRAME_COMP_WIDTH(frame, plane), CV_8UC(channels),
                 GST_VIDEO_FRAME_PLANE_DATA(frame, plane),
                 GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane));
}

static flagmask::PackedLayout packed_layout(const GstVideoFrame *frame) {
  flagmask::PackedLayout layout;
  layout.channels = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, 0);
  layout.r = GST_VIDEO_FRAME_COMP_POFFSET(frame, GST_VIDEO_COMP_R);
  layout.g = GST_VIDEO_FRAME_COMP_POFFSET(frame, GST_VIDEO_COMP_G);
  layout.b = GST_VIDEO_FRAME_COMP_POFFSET(frame, GST_VIDEO_COMP_B);
  layout.a = GST_VIDEO_INFO_HAS_ALPHA(&frame->info)
                 ? GST_VIDEO_FRAME_COMP_POFFSET(frame, GST_VIDEO_COMP_A)
                 : -1;
  return layout;
}

static flagmask::YuvMatrix yuv_matrix(const GstVideoInfo *info) {
  flagmask::YuvMatrix matrix;
  gdouble kr, kb;
  // Unknown matrices fall back to BT.601, which is what untagged SD material mostly is.
  if (gst_video_color_matrix_get_Kr_Kb(info->colorimetry.matrix, &kr, &kb)) {
    matrix.kr = kr;
    matrix.kb = kb;
  }
  matrix.full_range = info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  return matrix;
}

// The frame at working size as BGR. For YUV formats luma receives the luma plane at working size,
// made on the way.
static cv::Mat working_image(GstVideoFrame *frame, cv::Size working, cv::Mat *luma) {
  const GstVideoFormat format = GST_VIDEO_FRAME_FORMAT(frame);
  if (format == GST_VIDEO_FORMAT_I420)
    return flagmask::workingFromYuv(plane_mat(frame, 0, 1), plane_mat(frame, 1, 1),
                                    plane_mat(frame, 2, 1), yuv_matrix(&frame->info), working,
                                    luma);
  if (format == GST_VIDEO_FORMAT_NV12)
    return flagmask::workingFromNv12(plane_mat(frame, 0, 1), plane_mat(frame, 1, 2),
                                     yuv_matrix(&frame->info), working, luma);
  const flagmask::PackedLayout layout = packed_layout(frame);
  return flagmask::workingFromPacked(plane_mat(frame, 0, layout.channels), layout, working);
}

static void apply_mode(GstVideoFrame *frame, const flagmask::SoftMask &mask, flagmask::Mode mode,
                       const flagmask::ModeStyle &style) {
  const GstVideoFormat format = GST_VIDEO_FRAME_FORMAT(frame);
  cv::Mat y = plane_mat(frame, 0, 1);
  if (format == GST_VIDEO_FORMAT_I420) {
    cv::Mat u = plane_mat(frame, 1, 1), v = plane_mat(frame, 2, 1);
    flagmask::applyI420(y, u, v, mask, mode, yuv_matrix(&frame->info), style);
  } else if (format == GST_VIDEO_FORMAT_NV12) {
    cv::Mat uv = plane_mat(frame, 1, 2);
    flagmask::applyNv12(y, uv, mask, mode, yuv_matrix(&frame->info), style);
  } else {
    const flagmask::PackedLayout layout = packed_layout(frame);
    cv::Mat plane = plane_mat(frame, 0, layout.channels);
    flagmask::applyPacked(plane, layout, mask, mode, style);
  }
}

// Whether there is a seed to start tracking from: the seed mask, or the box it is cut from.
static bool has_seed(const Stream &stream) {
  return stream.seed_by_box ? stream.seed_box.has_value() : !stream.seed_mask.empty();
}

// Forgets the temporal state and any adaptation of the model, so that a flushed or new stream
// gives the same masks as the first run; the seed mask applies again to the next frame.
// Returns false after posting an error.
static bool restart_tracking(GstFlagMask *self) {
  Stream &stream = self->stream;
  try {
    stream.segmenter = flagmask::Segmenter();
    if (stream.model)
      stream.segmenter.setModel(*stream.model);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("flagmask: could not restart tracking: %s", e.what()),
                      (nullptr));
    return false;
  }
  stream.seed_pending = has_seed(stream);
  return true;
}

static bool restart_tracking_locked(GstFlagMask *self) {
  const std::lock_guard<std::mutex> guard(self->stream_lock);
  return restart_tracking(self);
}

/* ---- properties ---------------------------------------------------------------------------- */

static void set_mode(GstFlagMask *self, GstFlagMaskMode mode) {
  GstBaseTransform *trans = GST_BASE_TRANSFORM(self);
  GST_OBJECT_LOCK(self);
  const bool changed = self->settings.mode != mode;
  self->settings.mode = mode;
  const bool stuck = mode == GST_FLAG_MASK_MODE_ALPHA && !self->settings.format_has_alpha;
  GST_OBJECT_UNLOCK(self);
  if (!changed)
    return;
  // The formats we accept depend on the mode: ask upstream to renegotiate. Renegotiating the
  // output on the current input would fail outright for alpha on a format without alpha; then
  // the frames tell the user instead (see transform_frame_ip).
  gst_base_transform_reconfigure_sink(trans);
  if (!stuck)
    gst_base_transform_reconfigure_src(trans);
}

// A new file name for model or seed-mask; while running, the streaming thread loads it before the
// next frame (see apply_input_change). Setting the same name again changes nothing.
static void set_input_path(Settings &s, std::string &path, const gchar *value) {
  const std::string wanted = value ? value : "";
  if (wanted == path)
    return;
  path = wanted;
  ++s.inputs_generation;
}

static void gst_flag_mask_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec) {
  GstFlagMask *self = GST_FLAG_MASK(object);
  if (prop_id == PROP_MODE) {
    set_mode(self, static_cast<GstFlagMaskMode>(g_value_get_enum(value)));
    return;
  }
  GST_OBJECT_LOCK(self);
  Settings &s = self->settings;
  switch (prop_id) {
  case PROP_MODEL:
    set_input_path(s, s.model_path, g_value_get_string(value));
    break;
  case PROP_SEED_MASK:
    set_input_path(s, s.seed_path, g_value_get_string(value));
    break;
  case PROP_SEED_BOX:
    set_input_path(s, s.seed_box, g_value_get_string(value));
    break;
  case PROP_MODEL_OUT: {
    const gchar *path = g_value_get_string(value);
    s.model_out = path ? path : "";
    break;
  }
  case PROP_BACKGROUND_COLOR:
    s.background_color = g_value_get_uint(value);
    break;
  case PROP_THRESHOLD:
    s.threshold = g_value_get_double(value);
    break;
  case PROP_WORKING_SIZE:
    s.working_size = g_value_get_uint(value);
    break;
  case PROP_TEMPORAL_WEIGHT:
    s.temporal_weight = g_value_get_double(value);
    break;
  case PROP_MOTION_WEIGHT:
    s.motion_weight = g_value_get_double(value);
    break;
  case PROP_ADAPT_RATE:
    s.adapt_rate = g_value_get_double(value);
    break;
  case PROP_HYSTERESIS:
    s.hysteresis = g_value_get_double(value);
    break;
  case PROP_POST_MESSAGES:
    s.post_messages = g_value_get_boolean(value);
    break;
  case PROP_INVERT:
    s.invert = g_value_get_boolean(value);
    break;
  case PROP_FEATHER:
    s.feather = g_value_get_uint(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_flag_mask_get_property(GObject *object, guint prop_id, GValue *value,
                                       GParamSpec *pspec) {
  GstFlagMask *self = GST_FLAG_MASK(object);
  GST_OBJECT_LOCK(self);
  const Settings &s = self->settings;
  switch (prop_id) {
  case PROP_MODEL:
    g_value_set_string(value, s.model_path.empty() ? nullptr : s.model_path.c_str());
    break;
  case PROP_SEED_MASK:
    g_value_set_string(value, s.seed_path.empty() ? nullptr : s.seed_path.c_str());
    break;
  case PROP_SEED_BOX:
    g_value_set_string(value, s.seed_box.empty() ? nullptr : s.seed_box.c_str());
    break;
  case PROP_MODEL_OUT:
    g_value_set_string(value, s.model_out.empty() ? nullptr : s.model_out.c_str());
    break;
  case PROP_MODE:
    g_value_set_enum(value, s.mode);
    break;
  case PROP_BACKGROUND_COLOR:
    g_value_set_uint(value, s.background_color);
    break;
  case PROP_THRESHOLD:
    g_value_set_double(value, s.threshold);
    break;
  case PROP_WORKING_SIZE:
    g_value_set_uint(value, s.working_size);
    break;
  case PROP_TEMPORAL_WEIGHT:
    g_value_set_double(value, s.temporal_weight);
    break;
  case PROP_MOTION_WEIGHT:
    g_value_set_double(value, s.motion_weight);
    break;
  case PROP_ADAPT_RATE:
    g_value_set_double(value, s.adapt_rate);
    break;
  case PROP_HYSTERESIS:
    g_value_set_double(value, s.hysteresis);
    break;
  case PROP_POST_MESSAGES:
    g_value_set_boolean(value, s.post_messages);
    break;
  case PROP_INVERT:
    g_value_set_boolean(value, s.invert);
    break;
  case PROP_FEATHER:
    g_value_set_uint(value, s.feather);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK(self);
}

/* ---- loading the model and the seed mask --------------------------------------------------- */

// At start a file that does not load stops the element; while playing it only gets a warning,
// since the element can go on with the file it had.
enum class Severity { Error, Warning };

// Posts a load failure: a missing file is NOT_FOUND, one that exists but cannot be used OPEN_READ.
static void post_load_failure(GstFlagMask *self, const std::string &path,
                              const std::string &message, Severity severity) {
  const bool missing = !g_file_test(path.c_str(), G_FILE_TEST_EXISTS);
  const char *text = message.c_str();
  if (severity == Severity::Error && missing)
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s", text), ("file: %s", path.c_str()));
  else if (severity == Severity::Error)
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("%s", text), ("file: %s", path.c_str()));
  else if (missing)
    GST_ELEMENT_WARNING(self, RESOURCE, NOT_FOUND, ("%s", text), ("file: %s", path.c_str()));
  else
    GST_ELEMENT_WARNING(self, RESOURCE, OPEN_READ, ("%s", text), ("file: %s", path.c_str()));
}

// Runs one load; returns false after posting the failure.
template <typename Load>
static bool load_input(GstFlagMask *self, const std::string &path, const char *what,
                       Severity severity, Load load) {
  const std::string prefix = std::string("flagmask: could not read ") + what + " '" + path + "': ";
  try {
    load();
    return true;
  } catch (const flagmask::Error &e) {
    post_load_failure(self, path, e.what(), severity);
  } catch (const cv::Exception &e) {
    post_load_failure(self, path, prefix + e.err, severity);
  } catch (const std::exception &e) {
    post_load_failure(self, path, prefix + e.what(), severity);
  }
  return false;
}

// A mask holds a few values (0 and 255, or object labels). More than this and the file is likely
// a photograph or a JPEG-compressed mask, whose every pixel that is not black becomes the object.
#define MAX_MASK_VALUES 32

// A seed mask that loads but will not do what its author meant: said once, then used as the rule
// says (every non-zero pixel is the object).
static void warn_about_seed(GstFlagMask *self, const std::string &path,
                            const flagmask::MaskInfo &info) {
  if (info.distinct_values > MAX_MASK_VALUES)
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS,
                        ("flagmask: seed mask '%s' does not look like a mask: it has %d distinct "
                         "values, as a photograph or a JPEG-compressed mask has; every pixel that "
                         "is not black is taken as the object (%.1f%% of the frame)",
                         path.c_str(), info.distinct_values, 100.0 * info.coverage),
                        ("a mask is 0 for the background and non-zero for the object; save it in "
                         "a lossless format such as PNG"));
  else if (info.coverage >= 1.0)
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS,
                        ("flagmask: seed mask '%s' marks every pixel as the object: there is no "
                         "background to tell it from, so whole frames are kept",
                         path.c_str()),
                        (nullptr));
}

static bool load_model(GstFlagMask *self, const std::string &path, Severity severity,
                       std::optional<flagmask::Model> &model) {
  return load_input(self, path, "model file", severity,
                    [&] { model = flagmask::loadModel(path); });
}

static bool load_seed(GstFlagMask *self, const std::string &path, Severity severity,
                      cv::Mat &seed) {
  flagmask::MaskInfo info;
  if (!load_input(self, path, "seed mask", severity,
                  [&] { seed = flagmask::loadMask(path, true, &info); }))
    return false;
  warn_about_seed(self, path, info);
  return true;
}

// Reads seed-box; a value that is not x,y,w,h gets an error (at start) or a warning (while
// playing) quoting it and saying what is wrong.
static bool parse_seed_box(GstFlagMask *self, const std::string &text, Severity severity,
                           std::optional<cv::Rect> &box) {
  try {
    box = flagmask::parseBox(text);
    return true;
  } catch (const std::exception &e) {
    const std::string message = std::string("flagmask: invalid seed-box: ") + e.what();
    if (severity == Severity::Error)
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", message.c_str()), (nullptr));
    else
      GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s", message.c_str()),
                          ("the element goes on with the seed it had"));
    return false;
  }
}

/* ---- saving the learned model ------------------------------------------------------------- */

// A copy of the model as the tracker has adapted it so far, taken under the stream lock so that
// the file can be written outside it (the streaming thread is not held up by the disk). Empty
// when nothing has been learned.
static std::optional<flagmask::Model> learned_model(GstFlagMask *self) {
  const std::lock_guard<std::mutex> guard(self->stream_lock);
  const flagmask::Model &model = self->stream.segmenter.model();
  if (!model.trained())
    return std::nullopt;
  return model; // a deep copy
}

// Why a file could not be written, in words a user can act on.
static std::string write_failure_reason(const std::string &path, const std::string &fallback) {
  gchar *dir = g_path_get_dirname(path.c_str());
  std::string reason = fallback;
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    reason = std::string("the directory '") + dir + "' does not exist";
  else if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR))
    reason = "it is a directory";
  else if (g_access(dir, W_OK) != 0 ||
           (g_file_test(path.c_str(), G_FILE_TEST_EXISTS) && g_access(path.c_str(), W_OK) != 0))
    reason = "permission denied";
  g_free(dir);
  return reason;
}

// Writes model to path; on failure posts a warning naming the file and the reason.
static bool write_model(GstFlagMask *self, const std::string &path,
                        const std::optional<flagmask::Model> &model) {
  const char *file = path.c_str();
  if (path.empty()) {
    GST_ELEMENT_WARNING(self, RESOURCE, OPEN_WRITE,
                        ("flagmask: could not save the model: no file name given"), (nullptr));
    return false;
  }
  if (!model) {
    GST_ELEMENT_WARNING(self, RESOURCE, OPEN_WRITE,
                        ("flagmask: could not save the model to '%s': nothing has been learned "
                         "yet (a model is learned from the seed on the first frame, or loaded "
                         "from the model property)",
                         file),
                        (nullptr));
    return false;
  }
  try {
    flagmask::saveModel(*model, path);
    GST_INFO_OBJECT(self, "learned model written to '%s'", file);
    return true;
  } catch (const std::exception &e) {
    const std::string reason = write_failure_reason(path, e.what());
    GST_ELEMENT_WARNING(self, RESOURCE, OPEN_WRITE,
                        ("flagmask: could not save the model to '%s': %s", file, reason.c_str()),
                        ("%s", e.what()));
    return false;
  }
}

// The save-model action signal: any thread, any time.
static gboolean gst_flag_mask_save_model(GstFlagMask *self, const gchar *path) {
  return write_model(self, path ? path : "", learned_model(self));
}

// model-out: at EOS and at stop, writes the learned model when frames went through the tracker
// since it was last written.
static void write_model_out(GstFlagMask *self) {
  GST_OBJECT_LOCK(self);
  const std::string path = self->settings.model_out;
  GST_OBJECT_UNLOCK(self);
  if (path.empty())
    return;
  {
    const std::lock_guard<std::mutex> guard(self->stream_lock);
    if (!self->stream.unsaved)
      return;
    self->stream.unsaved = false;
  }
  const std::optional<flagmask::Model> model = learned_model(self);
  if (model)
    write_model(self, path, model);
}

/* ---- start / stop -------------------------------------------------------------------------- */

static gboolean gst_flag_mask_start(GstBaseTransform *trans) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  GST_OBJECT_LOCK(self);
  const std::string model_path = self->settings.model_path;
  const std::string seed_path = self->settings.seed_path;
  const std::string seed_box = self->settings.seed_box;
  const guint inputs_generation = self->settings.inputs_generation;
  const int working_size = static_cast<int>(self->settings.working_size);
  GST_OBJECT_UNLOCK(self);

  if (model_path.empty() && seed_path.empty() && seed_box.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("flagmask needs a seed-mask or a model, or a seed-box to cut a seed from"),
                      ("set seed-mask to a mask of the first frame, seed-box to x,y,width,height "
                       "around the object on the first frame, or model to a file written by "
                       "flagmask-train"));
    return FALSE;
  }
  const std::lock_guard<std::mutex> guard(self->stream_lock);
  Stream &stream = self->stream;
  stream.started = false;
  stream.model.reset();
  stream.seed_mask.release();
  stream.seed_box.reset();
  if (!model_path.empty() && !load_model(self, model_path, Severity::Error, stream.model))
    return FALSE;
  if (!seed_path.empty() && !load_seed(self, seed_path, Severity::Error, stream.seed_mask))
    return FALSE;
  if (!seed_box.empty() && !parse_seed_box(self, seed_box, Severity::Error, stream.seed_box))
    return FALSE;
  stream.seed_box_text = seed_box;
  stream.seed_by_box = stream.seed_mask.empty() && stream.seed_box.has_value(); // the mask wins
  stream.model_path = model_path;
  stream.seed_path = seed_path;
  stream.inputs_generation = inputs_generation;
  stream.frame_size = cv::Size();
  stream.working_size = working_size;
  if (!restart_tracking(self))
    return FALSE;
  stream.started = true;
  GST_INFO_OBJECT(self, "started: model '%s', seed mask '%s', seed box '%s'", model_path.c_str(),
                  seed_path.c_str(), seed_box.c_str());
  return TRUE;
}

static gboolean gst_flag_mask_stop(GstBaseTransform *trans) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  write_model_out(self);
  const std::lock_guard<std::mutex> guard(self->stream_lock);
  try {
    self->stream = Stream(); // frees the model, the mask and the tracker's images
  } catch (const std::exception &e) {
    GST_WARNING_OBJECT(self, "could not reset the tracker: %s", e.what());
  }
  return TRUE;
}

/* ---- caps and events ----------------------------------------------------------------------- */

// Output caps equal input caps; in alpha mode only formats with an alpha channel are offered.
static GstCaps *gst_flag_mask_transform_caps(GstBaseTransform *trans, GstPadDirection direction,
                                             GstCaps *caps, GstCaps *filter) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  GST_OBJECT_LOCK(self);
  const bool alpha = self->settings.mode == GST_FLAG_MASK_MODE_ALPHA;
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
  GST_OBJECT_LOCK(self);
  self->settings.format_has_alpha = GST_VIDEO_INFO_HAS_ALPHA(in_info);
  GST_OBJECT_UNLOCK(self);

  const cv::Size size(GST_VIDEO_INFO_WIDTH(in_info), GST_VIDEO_INFO_HEIGHT(in_info));
  const std::lock_guard<std::mutex> guard(self->stream_lock);
  Stream &stream = self->stream;
  // The temporal state lives at one frame size; a new size starts afresh (from the model the
  // seed trained, not from the seed, which belongs to the first frame of the old size).
  if (!stream.frame_size.empty() && size != stream.frame_size) {
    GST_INFO_OBJECT(self, "frame size changed to %dx%d: tracking restarts", size.width,
                    size.height);
    try {
      flagmask::Model learned = stream.segmenter.model();
      stream.segmenter = flagmask::Segmenter();
      stream.segmenter.setModel(learned);
      // Nothing learned (a seed covering the whole frame leaves no background to learn from):
      // only the seed can start the tracking again.
      if (!learned.trained() && has_seed(stream))
        stream.seed_pending = true;
    } catch (const std::exception &e) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("%s", e.what()), (nullptr));
      return FALSE;
    }
  }
  stream.frame_size = size;
  return TRUE;
}

static gboolean gst_flag_mask_sink_event(GstBaseTransform *trans, GstEvent *event) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  switch (GST_EVENT_TYPE(event)) {
  case GST_EVENT_EOS:
    write_model_out(self); // before EOS goes on: the file is there when the application sees EOS
    break;
  case GST_EVENT_FLUSH_STOP:
  case GST_EVENT_STREAM_START:
    GST_DEBUG_OBJECT(self, "%s: tracking restarts from the seed", GST_EVENT_TYPE_NAME(event));
    if (!restart_tracking_locked(self)) {
      gst_event_unref(event);
      return FALSE;
    }
    break;
  default:
    break;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

/* ---- per frame ----------------------------------------------------------------------------- */

struct FrameSettings {
  GstFlagMaskMode mode;
  flagmask::SegmenterParams params;
  flagmask::ModeStyle style;
  bool post_messages = false;
  bool invert = false;
  int feather = 0;
  // Set when model or seed-mask changed since the stream's inputs were loaded.
  bool inputs_changed = false;
  guint inputs_generation = 0;
  std::string model_path, seed_path, seed_box;
};

static FrameSettings copy_frame_settings(GstFlagMask *self) {
  FrameSettings f;
  GST_OBJECT_LOCK(self);
  const Settings &s = self->settings;
  f.mode = s.mode;
  f.params.threshold = s.threshold;
  f.params.temporal_weight = s.temporal_weight;
  f.params.motion_weight = s.motion_weight;
  f.params.adapt_rate = s.adapt_rate;
  f.params.hysteresis = s.hysteresis;
  f.style.background_argb = s.background_color;
  f.post_messages = s.post_messages;
  f.invert = s.invert;
  f.feather = static_cast<int>(s.feather);
  f.inputs_changed = s.inputs_generation != self->stream.inputs_generation;
  if (f.inputs_changed) {
    f.inputs_generation = s.inputs_generation;
    f.model_path = s.model_path;
    f.seed_path = s.seed_path;
    f.seed_box = s.seed_box;
  }
  GST_OBJECT_UNLOCK(self);
  return f;
}

// The working-size mask brought to the frame's size, its boundary following the frame's own edges.
// The guide is a plane the frame already has, so nothing is converted at full size: luma for YUV,
// green for packed RGB (as the core does for BGR, so both give the same masks on BGR input).
static cv::Mat full_mask(Stream &stream, GstVideoFrame *frame, const cv::Mat &working_bgr,
                         const cv::Mat &mask) {
  const GstVideoFormat format = GST_VIDEO_FRAME_FORMAT(frame);
  const bool yuv = format == GST_VIDEO_FORMAT_I420 || format == GST_VIDEO_FORMAT_NV12;
  cv::Mat guide_full;
  int channel = 0;
  if (yuv) {
    guide_full = plane_mat(frame, 0, 1); // stream.guide_small is its reduction (working_image)
  } else {
    const flagmask::PackedLayout layout = packed_layout(frame);
    guide_full = plane_mat(frame, 0, layout.channels);
    channel = layout.g;
  }
  if (guide_full.size() == mask.size())
    return mask;
  if (!yuv)
    cv::extractChannel(working_bgr, stream.guide_small, 1);
  cv::Mat out;
  stream.upsampler.upsample(mask, stream.guide_small, guide_full, channel, out);
  return out;
}

// The object at the frame's size: its mask, and its box (in frame pixels), area, confidence and
// state. The frame is reduced to the working size here, as Segmenter does inside for a full-size
// frame, so the element gives the masks flagmask-eval gives.
static flagmask::Result segment(Stream &stream, GstVideoFrame *frame, const FrameSettings &settings,
                                const cv::Mat &box_seed) {
  const cv::Size size(GST_VIDEO_FRAME_WIDTH(frame), GST_VIDEO_FRAME_HEIGHT(frame));
  flagmask::SegmenterParams params = settings.params;
  params.working_size = stream.working_size;
  const cv::Size working = flagmask::workingSize(size, params.working_size);
  const cv::Mat image = working_image(frame, working, &stream.guide_small);
  stream.segmenter.setParams(params);
  flagmask::Result result;
  if (stream.seed_pending) {
    stream.seed_pending = false;
    // The same reduction Segmenter::seed applies to a full-size frame; its answer on the seed
    // frame is the seed itself at the frame's size.
    const cv::Mat full_seed =
        stream.seed_by_box ? box_seed : flagmask::resizeMask(stream.seed_mask, size);
    result = stream.segmenter.seed(image, flagmask::upscaleMask(full_seed, working));
    result.mask = full_seed;
  } else {
    result = stream.segmenter.process(image);
    result.mask = full_mask(stream, frame, image, result.mask);
  }
  // The tracker saw the working image: its box is in working pixels.
  result.box = flagmask::scaleRect(result.box, working, size);
  return result;
}

// A box set while playing must overlap the frames that are flowing; one that does not gets a
// warning and is not taken, so tracking goes on undisturbed.
static bool box_meets_frame(GstFlagMask *self, const cv::Rect &box, const std::string &text,
                            cv::Size frame) {
  if (frame.empty() || !(box & cv::Rect(cv::Point(0, 0), frame)).empty())
    return true;
  GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS,
                      ("flagmask: seed-box '%s' is empty or outside the %dx%d frame: nothing to "
                       "cut a seed from",
                       text.c_str(), frame.width, frame.height),
                      ("the element goes on with the seed it had"));
  return false;
}

// Which seed applies after seed-mask or seed-box changed while playing: the one just set (the mask
// when both were set between the same two frames); a cleared one gives way to the other.
static void choose_seed(Stream &stream, bool new_mask, bool new_box) {
  if (new_mask)
    stream.seed_by_box = false;
  else if (new_box)
    stream.seed_by_box = true;
  else
    stream.seed_by_box = stream.seed_mask.empty() && stream.seed_box.has_value();
}

// model, seed-mask or seed-box changed while playing: loads the files here, between two frames,
// and takes what loaded. A new model replaces the appearance model and tracking goes on; a new
// seed mask or box applies to this frame as to a first frame. A file or box that cannot be used
// gets a warning and the element goes on with what it had. Returns false after posting an error.
static bool apply_input_change(GstFlagMask *self, const FrameSettings &wanted) {
  Stream &stream = self->stream;
  stream.inputs_generation = wanted.inputs_generation; // warned about once, whatever the outcome
  const bool model_changed = wanted.model_path != stream.model_path;
  const bool seed_changed = wanted.seed_path != stream.seed_path;
  const bool box_changed = wanted.seed_box != stream.seed_box_text;
  std::optional<flagmask::Model> model;
  cv::Mat seed;
  std::optional<cv::Rect> box;
  const bool take_model =
      model_changed &&
      (wanted.model_path.empty() || load_model(self, wanted.model_path, Severity::Warning, model));
  const bool take_seed =
      seed_changed &&
      (wanted.seed_path.empty() || load_seed(self, wanted.seed_path, Severity::Warning, seed));
  const bool take_box =
      box_changed && (wanted.seed_box.empty() ||
                      (parse_seed_box(self, wanted.seed_box, Severity::Warning, box) &&
                       box_meets_frame(self, *box, wanted.seed_box, stream.frame_size)));
  const bool has_model = take_model ? model.has_value() : stream.model.has_value();
  const bool has_mask = take_seed ? !seed.empty() : !stream.seed_mask.empty();
  const bool has_box = take_box ? box.has_value() : stream.seed_box.has_value();
  if (!has_model && !has_mask && !has_box) {
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS,
                        ("flagmask needs a seed-mask or a model, or a seed-box: going on with "
                         "model '%s', seed mask '%s' and seed box '%s'",
                         stream.model_path.c_str(), stream.seed_path.c_str(),
                         stream.seed_box_text.c_str()),
                        (nullptr));
    return true;
  }
  if (take_model) {
    GST_INFO_OBJECT(self, "model now '%s'", wanted.model_path.c_str());
    stream.model = std::move(model);
    stream.model_path = wanted.model_path;
    if (stream.model)
      stream.segmenter.setModel(*stream.model);
  }
  if (take_seed) {
    GST_INFO_OBJECT(self, "seed mask now '%s'", wanted.seed_path.c_str());
    stream.seed_mask = seed;
    stream.seed_path = wanted.seed_path;
  }
  if (take_box) {
    GST_INFO_OBJECT(self, "seed box now '%s'", wanted.seed_box.c_str());
    stream.seed_box = box;
    stream.seed_box_text = wanted.seed_box;
  }
  const bool new_mask = take_seed && !seed.empty(), new_box = take_box && box.has_value();
  if (take_seed || take_box)
    choose_seed(stream, new_mask, new_box);
  return (new_mask || new_box) ? restart_tracking(self) : true;
}

// The seed cut from seed-box on this frame: the box clipped to the frame, then grabCut on the
// frame converted to BGR at full size (once, on a seed frame only). Throws flagmask::Error naming
// the box and the reason.
static cv::Mat cut_box_seed(GstVideoFrame *frame, const cv::Rect &box, const std::string &text) {
  const cv::Size size(GST_VIDEO_FRAME_WIDTH(frame), GST_VIDEO_FRAME_HEIGHT(frame));
  const cv::Rect clipped = box & cv::Rect(cv::Point(0, 0), size);
  const std::string where =
      "flagmask: seed-box '" + text + "' on the " + flagmask::sizeText(size) + " frame";
  if (clipped.empty())
    throw flagmask::Error(where + " is empty or outside the frame: nothing to cut a seed from");
  try {
    return flagmask::maskFromBox(working_image(frame, size, nullptr), clipped);
  } catch (const flagmask::Error &e) {
    throw flagmask::Error(where + ": " + e.what());
  }
}

// When this frame is a first frame seeded from seed-box, cuts the seed into box_seed. A box that
// gives no seed is an error when there is nothing else to track with, and a warning when the
// tracker can go on from a trained model. Returns false after posting an error.
static bool take_box_seed(GstFlagMask *self, GstVideoFrame *frame, cv::Mat &box_seed) {
  Stream &stream = self->stream;
  if (!stream.seed_pending || !stream.seed_by_box)
    return true;
  try {
    box_seed = cut_box_seed(frame, *stream.seed_box, stream.seed_box_text);
    return true;
  } catch (const flagmask::Error &e) {
    if (!stream.segmenter.model().trained()) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", e.what()),
                        ("draw the box around the object, inside the frame"));
      return false;
    }
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s", e.what()),
                        ("tracking goes on from the model"));
    stream.seed_pending = false;
    return true;
  }
}

// The mask the mode is applied with: the object's with a soft edge feather pixels wide, or with
// invert the background's. Inverting makes a new image: the object's mask may share its pixels
// with the seed mask kept for the next restart.
static flagmask::SoftMask output_mask(const cv::Mat &object, const FrameSettings &settings) {
  const flagmask::SoftMask soft = flagmask::featherMask(object, settings.feather);
  return settings.invert ? flagmask::invertMask(soft) : soft;
}

// What the frame found, for transform_ip to publish once the stream lock is released.
static void keep_outcome(GstFlagMask *self, const flagmask::Result &result,
                         const FrameSettings &settings) {
  FrameOutcome &outcome = self->outcome;
  outcome.valid = true;
  outcome.post_message = settings.post_messages;
  outcome.result.box = result.box;
  outcome.result.area = result.area;
  outcome.result.confidence = result.confidence;
  outcome.result.state = result.state;
}

static GstFlowReturn gst_flag_mask_transform_frame_ip(GstVideoFilter *filter,
                                                      GstVideoFrame *frame) {
  GstFlagMask *self = GST_FLAG_MASK(filter);
  const std::lock_guard<std::mutex> guard(self->stream_lock);
  if (!self->stream.started) // a buffer that came in while a start was failing
    return GST_FLOW_FLUSHING;
  const FrameSettings settings = copy_frame_settings(self);
  const GstVideoFormat format = GST_VIDEO_FRAME_FORMAT(frame);
  if (settings.mode == GST_FLAG_MASK_MODE_ALPHA && !GST_VIDEO_INFO_HAS_ALPHA(&frame->info)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("flagmask: mode alpha needs a format with an alpha channel, but the "
                       "stream is %s and upstream could not switch",
                       gst_video_format_to_string(format)),
                      ("put a videoconvert before flagmask, or set the mode before PLAYING"));
    return GST_FLOW_ERROR;
  }
  try {
    if (settings.inputs_changed && !apply_input_change(self, settings))
      return GST_FLOW_ERROR;
    cv::Mat box_seed;
    if (!take_box_seed(self, frame, box_seed))
      return GST_FLOW_ERROR;
    const flagmask::Result result = segment(self->stream, frame, settings, box_seed);
    apply_mode(frame, output_mask(result.mask, settings), core_mode(settings.mode), settings.style);
    keep_outcome(self, result, settings);
    self->stream.unsaved = true;
  } catch (const cv::Exception &e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("flagmask: OpenCV failed: %s", e.err.c_str()),
                      ("%s", e.what()));
    return GST_FLOW_ERROR;
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("%s", e.what()), (nullptr));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* ---- publishing what a frame found: region of interest meta and element message ------------ */

static const char *state_name(flagmask::TrackState state) {
  return state == flagmask::TrackState::Tracking ? "tracking" : "lost";
}

static bool object_found(const flagmask::Result &r) {
  return r.state == flagmask::TrackState::Tracking && !r.box.empty();
}

// The object's box as a GstVideoRegionOfInterestMeta of type "flagmask", with a "flagmask" param
// holding area, confidence and state; none when the object is lost. Metas from upstream stay
// (basetransform copies them with the buffer when it has to copy it).
static void add_roi_meta(GstFlagMask *self, GstBuffer *buf, const flagmask::Result &r) {
  if (!object_found(r))
    return;
  if (!gst_buffer_is_writable(buf)) { // basetransform hands transform_ip a writable buffer
    GST_WARNING_OBJECT(self, "output buffer not writable: no region of interest meta");
    return;
  }
  GstVideoRegionOfInterestMeta *meta = gst_buffer_add_video_region_of_interest_meta(
      buf, "flagmask", r.box.x, r.box.y, r.box.width, r.box.height);
  gst_video_region_of_interest_meta_add_param(
      meta,
      gst_structure_new("flagmask", "area", G_TYPE_DOUBLE, r.area, "confidence", G_TYPE_DOUBLE,
                        r.confidence, "state", G_TYPE_STRING, state_name(r.state), nullptr));
}

// The buffer's timestamp in stream time and running time, GST_CLOCK_TIME_NONE when it has none or
// the segment is not in time.
static void buffer_times(GstBaseTransform *trans, GstBuffer *buf, guint64 &pts,
                         guint64 &stream_time, guint64 &running_time) {
  pts = GST_BUFFER_PTS(buf);
  stream_time = running_time = GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID(pts) || trans->segment.format != GST_FORMAT_TIME)
    return;
  stream_time = gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, pts);
  running_time = gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, pts);
}

// The "flagmask" element message: field names and types are a contract with applications.
static void post_frame_message(GstFlagMask *self, GstBuffer *buf, const flagmask::Result &r) {
  guint64 pts, stream_time, running_time;
  buffer_times(GST_BASE_TRANSFORM(self), buf, pts, stream_time, running_time);
  const bool found = object_found(r);
  const cv::Rect box = found ? r.box : cv::Rect();
  GstStructure *s = gst_structure_new(
      "flagmask", "timestamp", G_TYPE_UINT64, pts, "stream-time", G_TYPE_UINT64, stream_time,
      "running-time", G_TYPE_UINT64, running_time, "area", G_TYPE_DOUBLE, found ? r.area : 0.0, "x",
      G_TYPE_INT, box.x, "y", G_TYPE_INT, box.y, "width", G_TYPE_INT, box.width, "height",
      G_TYPE_INT, box.height, "confidence", G_TYPE_DOUBLE, r.confidence, "state", G_TYPE_STRING,
      state_name(found ? r.state : flagmask::TrackState::Lost), nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

// Runs the frame (GstVideoFilter maps it and calls transform_frame_ip), then publishes what it
// found, outside the object lock and the stream lock.
static GstFlowReturn gst_flag_mask_transform_ip(GstBaseTransform *trans, GstBuffer *buf) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  self->outcome = FrameOutcome();
  const GstFlowReturn ret = GST_BASE_TRANSFORM_CLASS(parent_class)->transform_ip(trans, buf);
  if (ret != GST_FLOW_OK || !self->outcome.valid)
    return ret;
  add_roi_meta(self, buf, self->outcome.result);
  if (self->outcome.post_message)
    post_frame_message(self, buf, self->outcome.result);
  return ret;
}

/* ---- GObject boilerplate ------------------------------------------------------------------- */

static void gst_flag_mask_finalize(GObject *object) {
  GstFlagMask *self = GST_FLAG_MASK(object);
  self->settings.~Settings();
  self->stream.~Stream();
  self->stream_lock.~mutex();
  self->outcome.~FrameOutcome();
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
                          DEFAULT_PROP_MODEL, playing));
  g_object_class_install_property(
      gobject_class, PROP_SEED_MASK,
      g_param_spec_string("seed-mask", "Seed mask",
                          "Path of a mask image of the first frame (any size, scaled to the "
                          "frame; non-zero pixels are the object). A new file set while playing "
                          "applies to the next frame as to a first frame",
                          DEFAULT_PROP_SEED_MASK, playing));
  g_object_class_install_property(
      gobject_class, PROP_SEED_BOX,
      g_param_spec_string("seed-box", "Seed box",
                          "Box around the object on the first frame, \"x,y,width,height\" in "
                          "frame pixels (clipped to the frame): without seed-mask, the seed is "
                          "cut from it by grabCut; seed-mask wins when both are set at start. A "
                          "new box set while playing re-seeds at the next frame",
                          DEFAULT_PROP_SEED_BOX, playing));
  g_object_class_install_property(
      gobject_class, PROP_MODEL_OUT,
      g_param_spec_string("model-out", "Model out",
                          "Path of a file to write the learned model to (online adapted, the "
                          "format model reads) at EOS and when the element stops, if it tracked "
                          "frames since the last write; a failure gives a warning. Seed once on "
                          "a recording, then run with model= alone. See also the save-model "
                          "action signal",
                          DEFAULT_PROP_MODEL_OUT, playing));
  g_object_class_install_property(gobject_class, PROP_MODE,
                                  g_param_spec_enum("mode", "Mode", "What to write into the frame",
                                                    GST_TYPE_FLAG_MASK_MODE, DEFAULT_PROP_MODE,
                                                    playing));
  g_object_class_install_property(
      gobject_class, PROP_BACKGROUND_COLOR,
      g_param_spec_uint("background-color", "Background color",
                        "Colour behind the object in cutout mode, as 0xAARRGGBB (alpha is "
                        "written in formats that have it)",
                        0, G_MAXUINT32, DEFAULT_PROP_BACKGROUND_COLOR, playing));
  g_object_class_install_property(
      gobject_class, PROP_THRESHOLD,
      g_param_spec_double("threshold", "Threshold",
                          "Object probability (0..1) above which a pixel is the object", 0.0, 1.0,
                          DEFAULT_PROP_THRESHOLD, playing));
  g_object_class_install_property(
      gobject_class, PROP_WORKING_SIZE,
      g_param_spec_uint("working-size", "Working size",
                        "Longer side in pixels of the resolution the analysis runs at (frames "
                        "are scaled down to it, never up; the mask is brought back to the frame's "
                        "size along the frame's own edges)",
                        MIN_WORKING_SIZE, MAX_WORKING_SIZE, DEFAULT_PROP_WORKING_SIZE, ready));
  g_object_class_install_property(
      gobject_class, PROP_TEMPORAL_WEIGHT,
      g_param_spec_double("temporal-weight", "Temporal weight",
                          "Trust (0..1) in the previous mask carried along the optical flow, "
                          "against the appearance model, at the object's boundary",
                          0.0, 1.0, DEFAULT_PROP_TEMPORAL_WEIGHT, playing));
  g_object_class_install_property(
      gobject_class, PROP_MOTION_WEIGHT,
      g_param_spec_double("motion-weight", "Motion weight",
                          "Strength (0..1, 0 = off) of the evidence from pixels moving unlike the "
                          "camera: helps drop background that moves with the camera; neutral when "
                          "the object itself moves with the background",
                          0.0, 1.0, DEFAULT_PROP_MOTION_WEIGHT, playing));
  g_object_class_install_property(
      gobject_class, PROP_ADAPT_RATE,
      g_param_spec_double("adapt-rate", "Adaptation rate",
                          "How fast (0..1, 0 = never) the colour model follows the object's and "
                          "the background's changing colours, per frame. Divided by the number of "
                          "frames the model was trained on: a model trained on several frames "
                          "already knows the object's looks",
                          0.0, 1.0, DEFAULT_PROP_ADAPT_RATE, playing));
  g_object_class_install_property(
      gobject_class, PROP_HYSTERESIS,
      g_param_spec_double("hysteresis", "Hysteresis",
                          "Steadiness of the output mask: a pixel shown as object stays so while "
                          "its probability is above threshold - hysteresis, and a new pixel needs "
                          "more than threshold + hysteresis, so pixels near the threshold do not "
                          "flicker. Changes only what is shown, not what is tracked; 0 = off, "
                          "higher = steadier but slower to follow the object's changes",
                          0.0, 0.5, DEFAULT_PROP_HYSTERESIS, playing));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an element message named \"flagmask\" on the bus for every frame: "
                           "timestamp, stream-time, running-time, area (fraction of the frame), "
                           "x, y, width, height (the object's box in frame pixels, 0 when lost), "
                           "confidence (0..1) and state (\"tracking\" or \"lost\"). Takes effect "
                           "from the next frame",
                           DEFAULT_PROP_POST_MESSAGES, playing));
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
                        0, MAX_FEATHER, DEFAULT_PROP_FEATHER, playing));
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
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_flag_mask_transform_ip);
  filter_class->set_info = GST_DEBUG_FUNCPTR(gst_flag_mask_set_info);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_flag_mask_transform_frame_ip);

  gst_type_mark_as_plugin_api(GST_TYPE_FLAG_MASK_MODE, static_cast<GstPluginAPIFlags>(0));
}

static void gst_flag_mask_init(GstFlagMask *self) {
  new (&self->settings) Settings();
  new (&self->stream) Stream();
  new (&self->stream_lock) std::mutex();
  new (&self->outcome) FrameOutcome();
}
