/* flagmask: one-shot video object segmentation as a GStreamer video filter. */
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/**
 * GstFlagMaskMode:
 * @GST_FLAG_MASK_MODE_CUTOUT: the object over background-color
 * @GST_FLAG_MASK_MODE_ALPHA: the object opaque, the rest transparent (formats with alpha only)
 * @GST_FLAG_MASK_MODE_MASK: a white object on black
 * @GST_FLAG_MASK_MODE_OVERLAY: the frame with a dimmed background and the object outlined
 *
 * What the element writes into each frame.
 */
typedef enum {
  GST_FLAG_MASK_MODE_CUTOUT,
  GST_FLAG_MASK_MODE_ALPHA,
  GST_FLAG_MASK_MODE_MASK,
  GST_FLAG_MASK_MODE_OVERLAY,
} GstFlagMaskMode;

#define GST_TYPE_FLAG_MASK_MODE (gst_flag_mask_mode_get_type())
GType gst_flag_mask_mode_get_type(void);

#define GST_TYPE_FLAG_MASK (gst_flag_mask_get_type())
G_DECLARE_FINAL_TYPE(GstFlagMask, gst_flag_mask, GST, FLAG_MASK, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(flagmask);

G_END_DECLS
