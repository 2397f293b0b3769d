/* flagmask-embed: the flagmask element inside a C program.
 *
 * Builds  SOURCE ! flagmask mode=mask ! videoconvert ! GRAY8 ! appsink,  runs it to the end of the
 * stream, measures the object in every mask the application receives, and prints a summary:
 *
 *   frames=60 size=320x240 mean_object=0.0143 min_object=0.0131 max_object=0.0144 seconds=0.49
 *
 * SOURCE is a video file (--input, decoded by decodebin) or videotestsrc's moving ball. For the
 * ball the program writes its own seed mask, a disc where the ball starts; for a file, give the
 * object's mask on the first frame (--seed-mask) or a model from flagmask-train (--model).
 *
 * Exit status: 0 the stream ran to its end (the summary is printed then), 1 an error (printed as
 * the element gave it), 2 usage.
 *
 * Progress goes to stderr while the stream runs: a bar redrawn in place when stderr is a terminal,
 * otherwise a plain line every few seconds (--progress-every), so a log stays readable; --quiet
 * turns it off. The position comes from a position/duration query of the pipeline (a file), or
 * from the frames received against the frames asked for (the test source).
 *
 *   GST_PLUGIN_PATH=build/gst build/examples/flagmask-embed
 *   GST_PLUGIN_PATH=build/gst build/examples/flagmask-embed --input clip.avi --seed-mask first.png
 */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define DEFAULT_FRAMES 60
#define FRAMES_UNSET -1
#define BALL_WIDTH 320
#define BALL_HEIGHT 240
/* videotestsrc's ball (animation-mode=frames) is centred on frame 0 with a radius of about 18
 * pixels in a 320x240 frame. */
#define BALL_RADIUS 18
/* Progress: plain lines every 5 s by default (a log need not hear more); a bar redrawn 10 times a
 * second, BAR_WIDTH characters wide. */
#define DEFAULT_PROGRESS_EVERY 5.0
#define BAR_REFRESH (100 * GST_MSECOND)
#define BAR_WIDTH 30

typedef struct {
  gchar *input;
  gchar *seed_mask;
  gchar *model;
  gint frames;
  gboolean quiet;
  gdouble progress_every;
} Options;

/* What the appsink callback measures, in the streaming thread; read once the stream has ended
 * (frames also while it runs, atomically, for the progress report). */
typedef struct {
  gint frames;
  gint width, height;
  gdouble sum, min, max; /* fraction of each frame's pixels that are the object */
} Summary;

/* The progress report on stderr while the stream runs. */
typedef struct {
  gboolean enabled;
  gboolean terminal;  /* stderr is a terminal: one bar, redrawn in place */
  GstClockTime every; /* between two reports */
  gint total_frames;  /* the frames asked of the test source; 0 for a file (its duration says) */
  gboolean drawn;     /* the bar is on the terminal's current line */
} Progress;

static int parse_options(int *argc, char ***argv, Options *o) {
  const GOptionEntry entries[] = {
      {"input", 'i', 0, G_OPTION_ARG_FILENAME, &o->input,
       "Video file to segment (default: videotestsrc's moving ball)", "FILE"},
      {"seed-mask", 's', 0, G_OPTION_ARG_FILENAME, &o->seed_mask,
       "Mask of the object on the first frame (non-zero = object)", "FILE"},
      {"model", 'm', 0, G_OPTION_ARG_FILENAME, &o->model, "Model written by flagmask-train",
       "FILE"},
      {"frames", 'n', 0, G_OPTION_ARG_INT, &o->frames,
       "Frames of the test source (default 60; not with --input)", "N"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "No progress report on stderr", NULL},
      {"progress-every", 0, 0, G_OPTION_ARG_DOUBLE, &o->progress_every,
       "Seconds between progress lines when stderr is not a terminal (default 5)", "S"},
      {NULL}};
  GOptionContext *context = g_option_context_new("- run flagmask inside a program");
  g_option_context_set_summary(
      context, "Runs SOURCE ! flagmask mode=mask ! appsink to the end of the stream and prints\n"
               "frames=N size=WxH mean_object=F min_object=F max_object=F seconds=S\n"
               "Progress goes to stderr: a bar on a terminal, plain lines otherwise.\n"
               "Exit status: 0 ok, 1 error, 2 usage.");
  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_add_group(context, gst_init_get_option_group());
  GError *error = NULL;
  gboolean ok = g_option_context_parse(context, argc, argv, &error);
  g_option_context_free(context);
  if (!ok) {
    g_printerr("flagmask-embed: %s\n(see flagmask-embed --help)\n", error->message);
    g_clear_error(&error);
    return 2;
  }
  const char *problem = NULL;
  if (*argc > 1)
    problem = "unexpected argument";
  else if (o->input && o->frames != FRAMES_UNSET)
    problem = "--frames is for the test source; a file runs to its end";
  else if (o->input && !o->seed_mask && !o->model)
    problem = "with --input, give --seed-mask or --model";
  else if (o->frames != FRAMES_UNSET && o->frames < 1)
    problem = "--frames needs a positive number";
  else if (!(o->progress_every > 0.0))
    problem = "--progress-every needs a positive number of seconds";
  if (problem) {
    g_printerr("flagmask-embed: %s\n(see flagmask-embed --help)\n", problem);
    return 2;
  }
  if (o->frames == FRAMES_UNSET)
    o->frames = DEFAULT_FRAMES;
  return 0;
}

/* A binary PGM of a disc where the ball starts: the seed mask for the test source. PGM because
 * it takes a few lines of C and every mask reader of flagmask reads it. */
static gchar *write_ball_seed(void) {
  gchar *path = NULL;
  GError *error = NULL;
  const gint fd = g_file_open_tmp("flagmask-ball-XXXXXX.pgm", &path, &error);
  if (fd < 0) {
    g_printerr("flagmask-embed: cannot create the ball's seed mask: %s\n", error->message);
    g_clear_error(&error);
    return NULL;
  }
  FILE *file = fdopen(fd, "wb");
  if (!file) {
    g_printerr("flagmask-embed: cannot write the ball's seed mask '%s'\n", path);
    close(fd);
    g_free(path);
    return NULL;
  }
  fprintf(file, "P5\n%d %d\n255\n", BALL_WIDTH, BALL_HEIGHT);
  for (gint y = 0; y < BALL_HEIGHT; ++y)
    for (gint x = 0; x < BALL_WIDTH; ++x) {
      const gint dx = x - BALL_WIDTH / 2, dy = y - BALL_HEIGHT / 2;
      fputc(dx * dx + dy * dy <= BALL_RADIUS * BALL_RADIUS ? 255 : 0, file);
    }
  if (fclose(file) != 0) {
    g_printerr("flagmask-embed: cannot write the ball's seed mask '%s'\n", path);
    g_free(path);
    return NULL;
  }
  return path;
}

/* The part of the pipeline before flagmask, as a gst-launch description. A file's location is not
 * in it: it is set as a property, so that no file name needs quoting. */
static gchar *source_description(const Options *o) {
  if (o->input)
    return g_strdup("filesrc name=file ! decodebin ! videoconvert");
  return g_strdup_printf("videotestsrc pattern=ball animation-mode=frames num-buffers=%d "
                         "! video/x-raw,width=%d,height=%d,framerate=30/1",
                         o->frames, BALL_WIDTH, BALL_HEIGHT);
}

/* The fraction of a GRAY8 mask's pixels that are the object (rows read with their stride). */
static gdouble object_fraction(GstVideoFrame *frame) {
  const guint8 *pixels = GST_VIDEO_FRAME_PLANE_DATA(frame, 0);
  const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0);
  const gint width = GST_VIDEO_FRAME_WIDTH(frame), height = GST_VIDEO_FRAME_HEIGHT(frame);
  guint64 object = 0;
  for (gint y = 0; y < height; ++y)
    for (gint x = 0; x < width; ++x)
      object += pixels[y * stride + x] > 127;
  return (gdouble)object / ((gdouble)width * height);
}

/* appsink's callback, in the streaming thread: each mask as the application would use it. */
static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer user_data) {
  Summary *summary = user_data;
  GstSample *sample = gst_app_sink_pull_sample(sink);
  if (!sample)
    return GST_FLOW_EOS;
  GstVideoInfo info;
  GstVideoFrame frame;
  if (gst_video_info_from_caps(&info, gst_sample_get_caps(sample)) &&
      gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) {
    const gdouble f = object_fraction(&frame);
    summary->width = info.width;
    summary->height = info.height;
    summary->sum += f;
    summary->min = summary->frames == 0 ? f : MIN(summary->min, f);
    summary->max = summary->frames == 0 ? f : MAX(summary->max, f);
    g_atomic_int_inc(&summary->frames);
    gst_video_frame_unmap(&frame);
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

/* Sets a property of the element named name in the pipeline. */
static void set_on(GstElement *pipeline, const char *name, const char *property,
                   const char *value) {
  GstElement *element = gst_bin_get_by_name(GST_BIN(pipeline), name);
  g_object_set(element, property, value, NULL);
  gst_object_unref(element);
}

/* SOURCE ! flagmask ! videoconvert ! GRAY8 ! appsink: the structure parsed from a description, the
 * files set as properties, the appsink's callback set in code. seed is the seed mask or NULL. */
static GstElement *build_pipeline(const Options *o, const gchar *seed, Summary *summary) {
  GstPluginFeature *flagmask =
      gst_registry_find_feature(gst_registry_get(), "flagmask", GST_TYPE_ELEMENT_FACTORY);
  if (!flagmask) {
    g_printerr("flagmask-embed: no element 'flagmask': set GST_PLUGIN_PATH to the folder of "
               "libgstflagmask.so (build/gst in the source tree)\n");
    return NULL;
  }
  gst_object_unref(flagmask);
  gchar *source = source_description(o);
  gchar *description = g_strdup_printf("%s ! flagmask name=segmenter mode=mask ! videoconvert "
                                       "! video/x-raw,format=GRAY8 ! appsink name=sink",
                                       source);
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(description, &error);
  g_free(description);
  g_free(source);
  if (!pipeline || error) {
    /* A recoverable error (e.g. a missing element) may still come with a pipeline. */
    g_printerr("flagmask-embed: cannot build the pipeline: %s\n", error->message);
    g_clear_error(&error);
    if (pipeline)
      gst_object_unref(pipeline);
    return NULL;
  }
  if (o->input)
    set_on(pipeline, "file", "location", o->input);
  if (seed)
    set_on(pipeline, "segmenter", "seed-mask", seed);
  if (o->model)
    set_on(pipeline, "segmenter", "model", o->model);

  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstAppSinkCallbacks callbacks = {.new_sample = on_new_sample};
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, summary, NULL);
  /* The clock would pace a file to real time; an application that only wants the masks does not
   * need that. */
  g_object_set(sink, "sync", FALSE, NULL);
  gst_object_unref(sink);
  return pipeline;
}

/* How far the stream is, 0..1, or -1 when neither the frame count nor the duration says. */
static gdouble progress_fraction(const Progress *p, gint frames, gint64 position, gint64 duration) {
  if (p->total_frames > 0)
    return MIN(1.0, (gdouble)frames / p->total_frames);
  if (position >= 0 && duration > 0)
    return MIN(1.0, (gdouble)position / (gdouble)duration);
  return -1.0;
}

/* "frame 42, 1.4 s of 3.3 s": what is known of where the stream is. */
static gchar *progress_position(gint frames, gint64 position, gint64 duration) {
  GString *text = g_string_new(NULL);
  g_string_append_printf(text, "frame %d", frames);
  if (position >= 0)
    g_string_append_printf(text, ", %.1f s", (gdouble)position / GST_SECOND);
  if (position >= 0 && duration > 0)
    g_string_append_printf(text, " of %.1f s", (gdouble)duration / GST_SECOND);
  return g_string_free(text, FALSE);
}

/* One report: the bar redrawn on a terminal, a plain line otherwise. The position and duration
 * come from the pipeline's queries (a file's demuxer knows its duration; the test source does
 * not, but the program knows how many frames it asked for). */
static void report_progress(GstElement *pipeline, const Summary *s, Progress *p) {
  gint64 position = -1, duration = -1;
  if (!gst_element_query_position(pipeline, GST_FORMAT_TIME, &position))
    position = -1;
  if (!gst_element_query_duration(pipeline, GST_FORMAT_TIME, &duration))
    duration = -1;
  const gint frames = g_atomic_int_get(&s->frames);
  const gdouble fraction = progress_fraction(p, frames, position, duration);
  gchar *where = progress_position(frames, position, duration);
  if (p->terminal) {
    /* \r back to the line's start, \033[K clears what a longer line left. The two strings are
     * BAR_WIDTH characters long; %.*s takes as many of them as the bar needs. */
    if (fraction >= 0) {
      const gint filled = (gint)(fraction * BAR_WIDTH + 0.5);
      g_printerr("\r[%.*s%.*s] %3.0f%%  %s\033[K", filled, "##############################",
                 BAR_WIDTH - filled, "------------------------------", 100 * fraction, where);
    } else {
      g_printerr("\r%s\033[K", where);
    }
    p->drawn = TRUE;
  } else if (fraction >= 0) {
    g_printerr("flagmask-embed: %.0f%% (%s)\n", 100 * fraction, where);
  } else {
    g_printerr("flagmask-embed: %s\n", where);
  }
  g_free(where);
}

/* Takes the bar off the terminal before the summary or an error is printed. */
static void end_progress(Progress *p) {
  if (p->drawn)
    g_printerr("\r\033[K");
  p->drawn = FALSE;
}

static void print_error(GstMessage *message) {
  GError *error = NULL;
  gchar *debug = NULL;
  gst_message_parse_error(message, &error, &debug);
  g_printerr("flagmask-embed: error from %s: %s\n%s%s", GST_OBJECT_NAME(message->src),
             error->message, debug ? debug : "", debug ? "\n" : "");
  g_clear_error(&error);
  g_free(debug);
}

/* Plays the pipeline and waits on its bus for the end of the stream or the first error, reporting
 * progress each time the wait times out. Returns TRUE at the end of the stream. */
static gboolean run(GstElement *pipeline, const Summary *summary, Progress *progress) {
  GstBus *bus = gst_element_get_bus(pipeline);
  const gboolean started =
      gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
  /* A failed start has posted its error already: do not wait for an end that will not come. */
  const GstClockTime wait = !started            ? 0
                            : progress->enabled ? progress->every
                                                : GST_CLOCK_TIME_NONE;
  GstMessage *message;
  while (!(message = gst_bus_timed_pop_filtered(bus, wait, GST_MESSAGE_ERROR | GST_MESSAGE_EOS)) &&
         started)
    report_progress(pipeline, summary, progress);
  end_progress(progress);
  gboolean ok = FALSE;
  if (!message)
    g_printerr("flagmask-embed: the pipeline did not start\n");
  else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR)
    print_error(message);
  else
    ok = TRUE;
  if (message)
    gst_message_unref(message);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  return ok;
}

static void print_summary(const Summary *s, gdouble seconds) {
  printf("frames=%d size=%dx%d mean_object=%.4f min_object=%.4f max_object=%.4f seconds=%.2f\n",
         s->frames, s->width, s->height, s->frames ? s->sum / s->frames : 0.0, s->min, s->max,
         seconds);
}

static void free_options(Options *o) {
  g_free(o->input);
  g_free(o->seed_mask);
  g_free(o->model);
}

int main(int argc, char **argv) {
  Options o = {.frames = FRAMES_UNSET, .progress_every = DEFAULT_PROGRESS_EVERY};
  const int usage = parse_options(&argc, &argv, &o);
  if (usage != 0) {
    free_options(&o); /* the options parsed before the problem was found */
    return usage;
  }
  gst_init(NULL, NULL);

  /* With the test source and nothing else, the program seeds the ball itself. */
  gchar *ball_seed = (!o.input && !o.seed_mask && !o.model) ? write_ball_seed() : NULL;
  const gchar *seed = o.seed_mask ? o.seed_mask : ball_seed;
  int status = 1;
  Summary summary = {0};
  GstElement *pipeline =
      (o.seed_mask || o.model || ball_seed) ? build_pipeline(&o, seed, &summary) : NULL;
  if (pipeline) {
    Progress progress = {.enabled = !o.quiet, .terminal = isatty(STDERR_FILENO)};
    progress.every =
        progress.terminal ? BAR_REFRESH : (GstClockTime)(o.progress_every * GST_SECOND);
    progress.total_frames = o.input ? 0 : o.frames;
    const gint64 start = g_get_monotonic_time();
    const gboolean ok = run(pipeline, &summary, &progress);
    gst_object_unref(pipeline);
    if (ok)
      print_summary(&summary, (g_get_monotonic_time() - start) / 1e6);
    status = ok ? 0 : 1;
  }
  if (ball_seed) {
    g_unlink(ball_seed);
    g_free(ball_seed);
  }
  free_options(&o);
  return status;
}
