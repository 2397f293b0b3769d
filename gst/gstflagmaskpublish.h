/* flagmask: what the element tells the world: the core's reports as bus messages and debug log
 * lines, and what a frame found as a region of interest meta and an element message. Called only
 * with none of the element's locks held: a synchronous bus handler may call back into the
 * element. */
#pragma once

#include "stream.h"

#include <gst/base/gstbasetransform.h>

GST_DEBUG_CATEGORY_EXTERN(gst_flag_mask_debug);

/* Posts each error and warning as an element message (GStreamer's domain and code for its kind),
 * and writes the informational ones to the debug log. */
void gst_flag_mask_post_reports(GstElement *element, const flagmask::Reports &reports);

/* Posts the exception being handled (call it in a catch block) as a STREAM/FAILED error. */
void gst_flag_mask_post_exception(GstElement *element);

/* The object's box as a GstVideoRegionOfInterestMeta of type "flagmask" on buf (none when the
 * object is lost), and with post_message the "flagmask" element message of the frame. */
void gst_flag_mask_publish_frame(GstBaseTransform *trans, GstBuffer *buf,
                                 const flagmask::FrameFacts &facts, bool post_message);

/* Runs body, the work of a GObject callback, and returns what it returns. No C++ exception may
 * cross into GLib's C code: one that reaches here becomes an element error, and fallback is
 * returned. */
template <typename R, typename Body>
R gst_flag_mask_guard(GstElement *element, R fallback, Body body) noexcept {
  try {
    return body();
  } catch (...) {
    gst_flag_mask_post_exception(element);
    return fallback;
  }
}
