#include "gstflagmaskpublish.h"

#include <gst/video/video.h>

#include <opencv2/core.hpp>

#define GST_CAT_DEFAULT gst_flag_mask_debug

namespace {

using Kind = flagmask::Report::Kind;
using Level = flagmask::Report::Level;

GQuark error_domain(Kind kind) {
  return kind == Kind::Format || kind == Kind::Failed ? GST_STREAM_ERROR : GST_RESOURCE_ERROR;
}

gint error_code(Kind kind) {
  switch (kind) {
  case Kind::NotFound:
    return GST_RESOURCE_ERROR_NOT_FOUND;
  case Kind::OpenRead:
    return GST_RESOURCE_ERROR_OPEN_READ;
  case Kind::OpenWrite:
    return GST_RESOURCE_ERROR_OPEN_WRITE;
  case Kind::Settings:
    return GST_RESOURCE_ERROR_SETTINGS;
  case Kind::Format:
    return GST_STREAM_ERROR_FORMAT;
  case Kind::Failed:
    break;
  }
  return GST_STREAM_ERROR_FAILED;
}

// What GST_ELEMENT_ERROR and GST_ELEMENT_WARNING post, for a text made at run time.
void post_report(GstElement *element, const flagmask::Report &r) {
  if (r.level == Level::Info) {
    GST_INFO_OBJECT(element, "%s", r.text.c_str());
    return;
  }
  const GstMessageType type = r.level == Level::Error ? GST_MESSAGE_ERROR : GST_MESSAGE_WARNING;
  GST_DEBUG_OBJECT(element, "posting: %s", r.text.c_str());
  gst_element_message_full(
      element, type, error_domain(r.kind), error_code(r.kind), g_strdup(r.text.c_str()),
      r.debug.empty() ? nullptr : g_strdup(r.debug.c_str()), __FILE__, GST_FUNCTION, __LINE__);
}

const char *state_name(const flagmask::FrameFacts &facts) {
  return facts.found() ? "tracking" : "lost";
}

// A "flagmask" param holds area, confidence and state. Metas from upstream stay (basetransform
// copies them with the buffer when it has to copy it).
void add_roi_meta(GstBaseTransform *trans, GstBuffer *buf, const flagmask::FrameFacts &facts) {
  if (!gst_buffer_is_writable(buf)) { // basetransform hands transform_ip a writable buffer
    GST_WARNING_OBJECT(trans, "output buffer not writable: no region of interest meta");
    return;
  }
  const cv::Rect &box = facts.box;
  GstVideoRegionOfInterestMeta *meta = gst_buffer_add_video_region_of_interest_meta(
      buf, "flagmask", box.x, box.y, box.width, box.height);
  gst_video_region_of_interest_meta_add_param(
      meta,
      gst_structure_new("flagmask", "area", G_TYPE_DOUBLE, facts.area, "confidence", G_TYPE_DOUBLE,
                        facts.confidence, "state", G_TYPE_STRING, state_name(facts), nullptr));
}

// The buffer's timestamp in stream time and running time, GST_CLOCK_TIME_NONE when it has none or
// the segment is not in time.
void buffer_times(GstBaseTransform *trans, GstBuffer *buf, guint64 &pts, guint64 &stream_time,
                  guint64 &running_time) {
  pts = GST_BUFFER_PTS(buf);
  stream_time = running_time = GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID(pts) || trans->segment.format != GST_FORMAT_TIME)
    return;
  stream_time = gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, pts);
  running_time = gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, pts);
}

// The "flagmask" element message: field names and types are a contract with applications.
void post_frame_message(GstBaseTransform *trans, GstBuffer *buf,
                        const flagmask::FrameFacts &facts) {
  guint64 pts, stream_time, running_time;
  buffer_times(trans, buf, pts, stream_time, running_time);
  const bool found = facts.found();
  const cv::Rect box = found ? facts.box : cv::Rect();
  GstStructure *s = gst_structure_new(
      "flagmask", "timestamp", G_TYPE_UINT64, pts, "stream-time", G_TYPE_UINT64, stream_time,
      "running-time", G_TYPE_UINT64, running_time, "area", G_TYPE_DOUBLE, found ? facts.area : 0.0,
      "x", G_TYPE_INT, box.x, "y", G_TYPE_INT, box.y, "width", G_TYPE_INT, box.width, "height",
      G_TYPE_INT, box.height, "confidence", G_TYPE_DOUBLE, facts.confidence, "state", G_TYPE_STRING,
      state_name(facts), "analysis", G_TYPE_STRING, facts.analysed ? "full" : "carried", nullptr);
  gst_element_post_message(GST_ELEMENT(trans), gst_message_new_element(GST_OBJECT(trans), s));
}

} // namespace

void gst_flag_mask_post_reports(GstElement *element, const flagmask::Reports &reports) {
  for (const flagmask::Report &r : reports)
    post_report(element, r);
}

void gst_flag_mask_post_exception(GstElement *element) {
  flagmask::Report r;
  r.level = Level::Error;
  r.kind = Kind::Failed;
  try {
    throw;
  } catch (const cv::Exception &e) {
    r.text = "flagmask: OpenCV failed: " + e.err;
    r.debug = e.what();
  } catch (const std::exception &e) {
    r.text = std::string("flagmask: ") + e.what();
  } catch (...) {
    r.text = "flagmask: an unknown exception";
  }
  post_report(element, r);
}

void gst_flag_mask_publish_frame(GstBaseTransform *trans, GstBuffer *buf,
                                 const flagmask::FrameFacts &facts, bool post_message) {
  if (facts.found())
    add_roi_meta(trans, buf, facts);
  if (post_message)
    post_frame_message(trans, buf, facts);
}
