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
 */
#include "gstflagmask.h"

#include "error.h"
#include "frame.h"
#include "guided.h"
#include "image_io.h"
#include "model.h"
#include "segmenter.h"

#include <gst/video/video.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <string>

GST_DEBUG_CATEGORY_STATIC(gst_flag_mask_debug);
#define GST_CAT_DEFAULT gst_flag_mask_debug

#define DEFAULT_PROP_MODEL nullptr
#define DEFAULT_PROP_SEED_MASK nullptr
#define DEFAULT_PROP_MODE GST_FLAG_MASK_MODE_CUTOUT
#define DEFAULT_PROP_BACKGROUND_COLOR 0xff000000u
#define DEFAULT_PROP_THRESHOLD 0.5
#define DEFAULT_PROP_WORKING_SIZE 480u
#define DEFAULT_PROP_TEMPORAL_WEIGHT (flagmask::SegmenterParams{}.temporal_weight)
#define DEFAULT_PROP_MOTION_WEIGHT (flagmask::SegmenterParams{}.motion_weight)

#define MIN_WORKING_SIZE 64u
#define MAX_WORKING_SIZE 4096u

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
};

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
  GstFlagMaskMode mode = DEFAULT_PROP_MODE;
  guint background_color = DEFAULT_PROP_BACKGROUND_COLOR;
  gdouble threshold = DEFAULT_PROP_THRESHOLD;
  guint working_size = DEFAULT_PROP_WORKING_SIZE;
  gdouble temporal_weight = DEFAULT_PROP_TEMPORAL_WEIGHT;
  gdouble motion_weight = DEFAULT_PROP_MOTION_WEIGHT;
  bool format_has_alpha = false; // of the negotiated format, for mode changes while playing
  guint inputs_generation = 0;   // bumped when model or seed-mask names another file
};

// The tracker and what it starts from. Used by the streaming thread and start/stop, always under
// stream_lock.
struct Stream {
  std::optional<flagmask::Model> model; // loaded from the model property
  cv::Mat seed_mask;                    // CV_8U 0/255 at the mask file's size
  std::string model_path, seed_path;    // the files model and seed_mask came from
  guint inputs_generation = 0;          // the Settings::inputs_generation they stand for
  bool started = false;                 // start() loaded the inputs
  flagmask::Segmenter segmenter;
  flagmask::GuidedUpsampler upsampler; // brings the working-size mask to the frame's size
  cv::Mat guide_small;                 // the upsampler's guide at working size
  bool seed_pending = false; // the next frame is a first frame: the seed mask applies to it
  cv::Size frame_size;
  int working_size = DEFAULT_PROP_WORKING_SIZE; // fixed from start to stop: the state lives there
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

static void apply_mode(GstVideoFrame *frame, const cv::Mat &mask, flagmask::Mode mode,
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
  stream.seed_pending = !stream.seed_mask.empty();
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
                    [&] { model = flagmask::Model::load(path); });
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

/* ---- start / stop -------------------------------------------------------------------------- */

static gboolean gst_flag_mask_start(GstBaseTransform *trans) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
  GST_OBJECT_LOCK(self);
  const std::string model_path = self->settings.model_path;
  const std::string seed_path = self->settings.seed_path;
  const guint inputs_generation = self->settings.inputs_generation;
  const int working_size = static_cast<int>(self->settings.working_size);
  GST_OBJECT_UNLOCK(self);

  if (model_path.empty() && seed_path.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("flagmask needs a seed-mask or a model"),
                      ("set seed-mask to a mask of the first frame, or model to a file written "
                       "by flagmask-train"));
    return FALSE;
  }
  const std::lock_guard<std::mutex> guard(self->stream_lock);
  Stream &stream = self->stream;
  stream.started = false;
  stream.model.reset();
  stream.seed_mask.release();
  if (!model_path.empty() && !load_model(self, model_path, Severity::Error, stream.model))
    return FALSE;
  if (!seed_path.empty() && !load_seed(self, seed_path, Severity::Error, stream.seed_mask))
    return FALSE;
  stream.model_path = model_path;
  stream.seed_path = seed_path;
  stream.inputs_generation = inputs_generation;
  stream.frame_size = cv::Size();
  stream.working_size = working_size;
  if (!restart_tracking(self))
    return FALSE;
  stream.started = true;
  GST_INFO_OBJECT(self, "started: model '%s', seed mask '%s'", model_path.c_str(),
                  seed_path.c_str());
  return TRUE;
}

static gboolean gst_flag_mask_stop(GstBaseTransform *trans) {
  GstFlagMask *self = GST_FLAG_MASK(trans);
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
      if (!learned.trained() && !stream.seed_mask.empty())
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
  // Set when model or seed-mask changed since the stream's inputs were loaded.
  bool inputs_changed = false;
  guint inputs_generation = 0;
  std::string model_path, seed_path;
};

static FrameSettings copy_frame_settings(GstFlagMask *self) {
  FrameSettings f;
  GST_OBJECT_LOCK(self);
  const Settings &s = self->settings;
  f.mode = s.mode;
  f.params.threshold = s.threshold;
  f.params.temporal_weight = s.temporal_weight;
  f.params.motion_weight = s.motion_weight;
  f.style.background_argb = s.background_color;
  f.inputs_changed = s.inputs_generation != self->stream.inputs_generation;
  if (f.inputs_changed) {
    f.inputs_generation = s.inputs_generation;
    f.model_path = s.model_path;
    f.seed_path = s.seed_path;
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

// The object's mask at the frame's size. The frame is reduced to the working size here, as
// Segmenter does inside for a full-size frame, so the element gives the masks flagmask-eval gives.
static cv::Mat segment(Stream &stream, GstVideoFrame *frame, const FrameSettings &settings) {
  const cv::Size size(GST_VIDEO_FRAME_WIDTH(frame), GST_VIDEO_FRAME_HEIGHT(frame));
  flagmask::SegmenterParams params = settings.params;
  params.working_size = stream.working_size;
  const cv::Size working = flagmask::workingSize(size, params.working_size);
  const cv::Mat image = working_image(frame, working, &stream.guide_small);
  stream.segmenter.setParams(params);
  if (stream.seed_pending) {
    stream.seed_pending = false;
    // The same reduction Segmenter::seed applies to a full-size frame; its answer on the seed
    // frame is the seed itself at the frame's size.
    const cv::Mat full_seed = flagmask::resizeMask(stream.seed_mask, size);
    stream.segmenter.seed(image, flagmask::upscaleMask(full_seed, working));
    return full_seed;
  }
  return full_mask(stream, frame, image, stream.segmenter.process(image).mask);
}

// model or seed-mask named other files while playing: loads them here, between two frames, and
// takes what loaded. A new model replaces the appearance model and tracking goes on; a new seed
// mask applies to this frame as to a first frame. A file that does not load gets a warning and
// the element goes on with what it had. Returns false after posting an error.
static bool apply_input_change(GstFlagMask *self, const FrameSettings &wanted) {
  Stream &stream = self->stream;
  stream.inputs_generation = wanted.inputs_generation; // warned about once, whatever the outcome
  const bool model_changed = wanted.model_path != stream.model_path;
  const bool seed_changed = wanted.seed_path != stream.seed_path;
  std::optional<flagmask::Model> model;
  cv::Mat seed;
  const bool take_model =
      model_changed &&
      (wanted.model_path.empty() || load_model(self, wanted.model_path, Severity::Warning, model));
  const bool take_seed =
      seed_changed &&
      (wanted.seed_path.empty() || load_seed(self, wanted.seed_path, Severity::Warning, seed));
  const bool has_model = take_model ? model.has_value() : stream.model.has_value();
  const bool has_seed = take_seed ? !seed.empty() : !stream.seed_mask.empty();
  if (!has_model && !has_seed) {
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS,
                        ("flagmask needs a seed-mask or a model: going on with model '%s' and "
                         "seed mask '%s'",
                         stream.model_path.c_str(), stream.seed_path.c_str()),
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
    if (!stream.seed_mask.empty())
      return restart_tracking(self);
  }
  return true;
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
    const cv::Mat mask = segment(self->stream, frame, settings);
    apply_mode(frame, mask, core_mode(settings.mode), settings.style);
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

/* ---- GObject boilerplate ------------------------------------------------------------------- */

static void gst_flag_mask_finalize(GObject *object) {
  GstFlagMask *self = GST_FLAG_MASK(object);
  self->settings.~Settings();
  self->stream.~Stream();
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
                          DEFAULT_PROP_MODEL, playing));
  g_object_class_install_property(
      gobject_class, PROP_SEED_MASK,
      g_param_spec_string("seed-mask", "Seed mask",
                          "Path of a mask image of the first frame (any size, scaled to the "
                          "frame; non-zero pixels are the object). A new file set while playing "
                          "applies to the next frame as to a first frame",
                          DEFAULT_PROP_SEED_MASK, playing));
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
  filter_class->set_info = GST_DEBUG_FUNCPTR(gst_flag_mask_set_info);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_flag_mask_transform_frame_ip);

  gst_type_mark_as_plugin_api(GST_TYPE_FLAG_MASK_MODE, static_cast<GstPluginAPIFlags>(0));
}

static void gst_flag_mask_init(GstFlagMask *self) {
  new (&self->settings) Settings();
  new (&self->stream) Stream();
  new (&self->stream_lock) std::mutex();
}
