#include "gstflagmaskframe.h"

namespace {

// The plane as a cv::Mat over the frame's memory, with its real stride. For the formats the
// element accepts, plane i holds component i (NV12's plane 1 holds U and V).
cv::Mat plane_mat(GstVideoFrame *frame, guint plane, int channels) {
  return cv::Mat(GST_VIDEO_FRAME_COMP_HEIGHT(frame, plane),
                 GST_VIDEO_FRAME_COMP_WIDTH(frame, plane), CV_8UC(channels),
                 GST_VIDEO_FRAME_PLANE_DATA(frame, plane),
                 GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane));
}

flagmask::PackedLayout packed_layout(const GstVideoFrame *frame) {
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

} // namespace

flagmask::YuvMatrix gst_flag_mask_yuv_matrix(const GstVideoInfo *info) {
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

flagmask::FrameView gst_flag_mask_frame_view(GstVideoFrame *frame) {
  const GstVideoFormat format = GST_VIDEO_FRAME_FORMAT(frame);
  const char *name = gst_video_format_to_string(format);
  if (format == GST_VIDEO_FORMAT_I420)
    return flagmask::FrameView::fromI420(plane_mat(frame, 0, 1), plane_mat(frame, 1, 1),
                                         plane_mat(frame, 2, 1),
                                         gst_flag_mask_yuv_matrix(&frame->info), name);
  if (format == GST_VIDEO_FORMAT_NV12)
    return flagmask::FrameView::fromNv12(plane_mat(frame, 0, 1), plane_mat(frame, 1, 2),
                                         gst_flag_mask_yuv_matrix(&frame->info), name);
  const flagmask::PackedLayout layout = packed_layout(frame);
  return flagmask::FrameView::fromPacked(plane_mat(frame, 0, layout.channels), layout, name);
}
