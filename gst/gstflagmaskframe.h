/* flagmask: a mapped GstVideoFrame as the core's view of a frame's planes. */
#pragma once

#include "frame.h"

#include <gst/video/video.h>

/* The frame's planes as cv::Mat headers over its memory, with their real strides, and what the
 * core needs to read them: the packed layout's byte positions, or the stream's YCbCr matrix. The
 * frame must be of a format of the pad templates and stay mapped while the view is used. */
flagmask::FrameView gst_flag_mask_frame_view(GstVideoFrame *frame);

/* The stream's YCbCr matrix and range from its colorimetry; BT.601 when the matrix is unknown. */
flagmask::YuvMatrix gst_flag_mask_yuv_matrix(const GstVideoInfo *info);
