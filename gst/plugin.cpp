/* flagmask plugin: registers the flagmask element. */
#include "gstflagmask.h"

#include <gst/gst.h>

static gboolean plugin_init(GstPlugin *plugin) {
  return GST_ELEMENT_REGISTER(flagmask, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, flagmask,
                  "One-shot video object segmentation: follows the object of a first-frame mask",
                  plugin_init, PACKAGE_VERSION, "LGPL", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
