/* flagmask-plugins-cache: writes docs/gst_plugins_cache.json, the plugin's documentation cache in
 * the layout of GStreamer's own gst_plugins_cache.json (what gst-hotdoc-plugins-scanner and
 * gst-plugins-doc-cache-generator.py make upstream; Debian 12 ships neither).
 *
 *   flagmask-plugins-cache OUTPUT.json|- PLUGIN.so
 *
 * The plugin is loaded into the registry from its file and every element it registers is
 * described by introspecting its class: factory metadata, type hierarchy, pad templates with
 * their caps, the properties the element itself installs (blurb, type, default read from a new
 * instance, range, flags, when it may change), its signals, and the enums it marks as plugin API.
 * Keys are written sorted and indented by 4, as Python's json.dump(sort_keys=True, indent=4)
 * does upstream, so the file diffs cleanly. OUTPUT is rewritten only when its text changes.
 *
 * Run through `ninja -C BUILD update-plugins-cache`; `meson test --suite docs` fails when the
 * committed file differs from what the built plugin gives. Exit status: 0 ok, 1 error, 2 usage.
 */
#include <gst/gst.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- A small JSON tree whose objects keep their keys sorted ---------------------------------- */

typedef enum { JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_BOOL } JsonKind;

typedef struct Json {
  JsonKind kind;
  gchar *string;    /* JSON_STRING */
  gboolean boolean; /* JSON_BOOL */
  GTree *members;   /* JSON_OBJECT: key (gchar *) -> Json *, in strcmp order */
  GPtrArray *items; /* JSON_ARRAY: Json * */
} Json;

static void json_free(gpointer data) {
  Json *node = data;
  if (!node)
    return;
  g_free(node->string);
  if (node->members)
    g_tree_unref(node->members);
  if (node->items)
    g_ptr_array_unref(node->items);
  g_free(node);
}

static gint compare_keys(gconstpointer a, gconstpointer b, gpointer unused) {
  (void)unused;
  return strcmp(a, b); /* byte order of UTF-8 is code point order, as Python sorts keys */
}

static Json *json_object(void) {
  Json *node = g_new0(Json, 1);
  node->kind = JSON_OBJECT;
  node->members = g_tree_new_full(compare_keys, NULL, g_free, json_free);
  return node;
}

static Json *json_array(void) {
  Json *node = g_new0(Json, 1);
  node->kind = JSON_ARRAY;
  node->items = g_ptr_array_new_with_free_func(json_free);
  return node;
}

/* A NULL string is written "NULL", as upstream's cache writes a string property without default. */
static Json *json_string(const gchar *value) {
  Json *node = g_new0(Json, 1);
  node->kind = JSON_STRING;
  node->string = g_strdup(value ? value : "NULL");
  return node;
}

static Json *json_take_string(gchar *value) {
  Json *node = json_string(value);
  g_free(value);
  return node;
}

static Json *json_bool(gboolean value) {
  Json *node = g_new0(Json, 1);
  node->kind = JSON_BOOL;
  node->boolean = value;
  return node;
}

/* Adds or replaces key; returns value, owned by object. */
static Json *json_set(Json *object, const gchar *key, Json *value) {
  g_tree_replace(object->members, g_strdup(key), value);
  return value;
}

static void json_append(Json *array, Json *value) {
  g_ptr_array_add(array->items, value);
}

static void write_string(GString *out, const gchar *s) {
  g_string_append_c(out, '"');
  for (const guchar *p = (const guchar *)s; *p; ++p) {
    switch (*p) {
    case '"':
      g_string_append(out, "\\\"");
      break;
    case '\\':
      g_string_append(out, "\\\\");
      break;
    case '\n':
      g_string_append(out, "\\n");
      break;
    case '\t':
      g_string_append(out, "\\t");
      break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        g_string_append_printf(out, "\\u%04x", *p);
      else
        g_string_append_c(out, (gchar)*p);
    }
  }
  g_string_append_c(out, '"');
}

static void write_json(GString *out, const Json *node, guint depth);

typedef struct {
  GString *out;
  guint depth;
  gboolean first;
} MemberWriter;

static gboolean write_member(gpointer key, gpointer value, gpointer data) {
  MemberWriter *w = data;
  g_string_append(w->out, w->first ? "\n" : ",\n");
  g_string_append_printf(w->out, "%*s", (int)(4 * w->depth), "");
  write_string(w->out, key);
  g_string_append(w->out, ": ");
  write_json(w->out, value, w->depth);
  w->first = FALSE;
  return FALSE;
}

static void write_json(GString *out, const Json *node, guint depth) {
  switch (node->kind) {
  case JSON_STRING:
    write_string(out, node->string);
    return;
  case JSON_BOOL:
    g_string_append(out, node->boolean ? "true" : "false");
    return;
  case JSON_OBJECT: {
    if (g_tree_nnodes(node->members) == 0) {
      g_string_append(out, "{}");
      return;
    }
    g_string_append_c(out, '{');
    MemberWriter w = {out, depth + 1, TRUE};
    g_tree_foreach(node->members, write_member, &w);
    g_string_append_printf(out, "\n%*s}", (int)(4 * depth), "");
    return;
  }
  case JSON_ARRAY:
    if (node->items->len == 0) {
      g_string_append(out, "[]");
      return;
    }
    g_string_append_c(out, '[');
    for (guint i = 0; i < node->items->len; ++i) {
      g_string_append_printf(out, "%s\n%*s", i ? "," : "", (int)(4 * (depth + 1)), "");
      write_json(out, g_ptr_array_index(node->items, i), depth + 1);
    }
    g_string_append_printf(out, "\n%*s]", (int)(4 * depth), "");
    return;
  }
}

/* ---- What upstream's scanner records, for one element --------------------------------------- */

/* An enum or flags type the element marked with gst_type_mark_as_plugin_api, in other-types. */
/* One enum or flags value as upstream's cache lists it; value_text is taken. */
static void append_value(Json *values, const char *nick, const char *name, gchar *value_text) {
  Json *value = json_object();
  json_set(value, "name", json_string(nick));
  json_set(value, "desc", json_string(name));
  json_set(value, "value", json_take_string(value_text));
  json_append(values, value);
}

static void add_enum_type(Json *other_types, GType type) {
  if (g_tree_lookup(other_types->members, g_type_name(type)) || !gst_type_is_plugin_api(type, NULL))
    return;
  Json *entry = json_set(other_types, g_type_name(type), json_object());
  Json *values = json_set(entry, "values", json_array());
  gpointer klass = g_type_class_ref(type);
  if (G_TYPE_IS_ENUM(type)) {
    json_set(entry, "kind", json_string("enum"));
    for (const GEnumValue *v = G_ENUM_CLASS(klass)->values; v->value_name; ++v)
      append_value(values, v->value_nick, v->value_name, g_strdup_printf("%d", v->value));
  } else {
    json_set(entry, "kind", json_string("flags"));
    for (const GFlagsValue *v = G_FLAGS_CLASS(klass)->values; v->value_name; ++v)
      append_value(values, v->value_nick, v->value_name, g_strdup_printf("0x%08x", v->value));
  }
  g_type_class_unref(klass);
}

static const gchar *enum_nick(GType type, gint value) {
  GEnumClass *klass = g_type_class_ref(type);
  const GEnumValue *v = g_enum_get_value(klass, value);
  g_type_class_unref(klass); /* the class stays: the element's class holds it */
  return v ? v->value_nick : "";
}

/* default, min and max of a property, as strings (upstream's form). */
static void add_value_range(Json *prop, GParamSpec *spec, const GValue *value) {
#define RANGE(fmt, get, T)                                                                         \
  do {                                                                                             \
    json_set(prop, "default", json_take_string(g_strdup_printf(fmt, get(value))));                 \
    json_set(prop, "min", json_take_string(g_strdup_printf(fmt, T(spec)->minimum)));               \
    json_set(prop, "max", json_take_string(g_strdup_printf(fmt, T(spec)->maximum)));               \
  } while (0)
  switch (G_TYPE_FUNDAMENTAL(G_VALUE_TYPE(value))) {
  case G_TYPE_STRING:
    json_set(prop, "default", json_string(g_value_get_string(value)));
    break;
  case G_TYPE_BOOLEAN:
    json_set(prop, "default", json_string(g_value_get_boolean(value) ? "true" : "false"));
    break;
  case G_TYPE_INT:
    RANGE("%d", g_value_get_int, G_PARAM_SPEC_INT);
    break;
  case G_TYPE_UINT:
    RANGE("%u", g_value_get_uint, G_PARAM_SPEC_UINT);
    break;
  case G_TYPE_INT64:
    RANGE("%" G_GINT64_FORMAT, g_value_get_int64, G_PARAM_SPEC_INT64);
    break;
  case G_TYPE_UINT64:
    RANGE("%" G_GUINT64_FORMAT, g_value_get_uint64, G_PARAM_SPEC_UINT64);
    break;
  case G_TYPE_FLOAT:
    RANGE("%g", g_value_get_float, G_PARAM_SPEC_FLOAT);
    break;
  case G_TYPE_DOUBLE:
    RANGE("%g", g_value_get_double, G_PARAM_SPEC_DOUBLE);
    break;
  case G_TYPE_ENUM: {
    const gint v = g_value_get_enum(value);
    json_set(prop, "default",
             json_take_string(g_strdup_printf("%s (%d)", enum_nick(spec->value_type, v), v)));
    break;
  }
  default: {
    /* Caps, structures, fractions, arrays: their serialised form where GStreamer has one. */
    gchar *text = gst_value_serialize(value);
    if (text)
      json_set(prop, "default", json_take_string(text));
    break;
  }
  }
#undef RANGE
}

static const gchar *mutable_state(GParamFlags flags) {
  if (flags & GST_PARAM_MUTABLE_PLAYING)
    return "playing";
  if (flags & GST_PARAM_MUTABLE_PAUSED)
    return "paused";
  if (flags & GST_PARAM_MUTABLE_READY)
    return "ready";
  return "null";
}

/* The properties the element's own type installs (base classes are documented by GStreamer). */
static void add_properties(Json *element_json, Json *other_types, GObject *element) {
  guint n = 0;
  GParamSpec **specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(element), &n);
  Json *props = json_object();
  for (guint i = 0; i < n; ++i) {
    GParamSpec *spec = specs[i];
    if (spec->owner_type != G_OBJECT_TYPE(element))
      continue;
    Json *prop = json_set(props, spec->name, json_object());
    json_set(prop, "blurb", json_string(g_param_spec_get_blurb(spec)));
    json_set(prop, "type", json_string(g_type_name(spec->value_type)));
    json_set(prop, "construct-only", json_bool(spec->flags & G_PARAM_CONSTRUCT_ONLY));
    json_set(prop, "construct", json_bool(spec->flags & G_PARAM_CONSTRUCT));
    json_set(prop, "readable", json_bool(spec->flags & G_PARAM_READABLE));
    json_set(prop, "writable", json_bool(spec->flags & G_PARAM_WRITABLE));
    json_set(prop, "controllable", json_bool(spec->flags & GST_PARAM_CONTROLLABLE));
    json_set(prop, "conditionally-available",
             json_bool(spec->flags & GST_PARAM_CONDITIONALLY_AVAILABLE));
    json_set(prop, "mutable", json_string(mutable_state(spec->flags)));

    GValue value = G_VALUE_INIT;
    g_value_init(&value, spec->value_type);
    if ((spec->flags & G_PARAM_READABLE) && !(spec->flags & GST_PARAM_DOC_SHOW_DEFAULT))
      g_object_get_property(element, spec->name, &value);
    else
      g_param_value_set_default(spec, &value);
    add_value_range(prop, spec, &value);
    g_value_unset(&value);

    if (G_TYPE_IS_ENUM(spec->value_type) || G_TYPE_IS_FLAGS(spec->value_type))
      add_enum_type(other_types, spec->value_type);
  }
  g_free(specs);
  if (g_tree_nnodes(props->members))
    json_set(element_json, "properties", props);
  else
    json_free(props);
}

static const gchar *signal_when(GSignalFlags flags) {
  if (flags & G_SIGNAL_RUN_FIRST)
    return "first";
  if (flags & G_SIGNAL_RUN_LAST)
    return "last";
  return "cleanup";
}

/* The signals (action signals included) the element's own type defines. */
static void add_signals(Json *element_json, Json *other_types, GType type) {
  guint n = 0;
  guint *ids = g_signal_list_ids(type, &n);
  if (n == 0) {
    g_free(ids);
    return;
  }
  Json *signals = json_set(element_json, "signals", json_object());
  for (guint i = 0; i < n; ++i) {
    GSignalQuery query;
    g_signal_query(ids[i], &query);
    Json *signal = json_set(signals, query.signal_name, json_object());
    Json *args = json_set(signal, "args", json_array());
    for (guint j = 0; j < query.n_params; ++j) {
      const GType arg_type = query.param_types[j] & ~G_SIGNAL_TYPE_STATIC_SCOPE;
      Json *arg = json_object();
      json_set(arg, "name", json_take_string(g_strdup_printf("arg%u", j)));
      json_set(arg, "type", json_string(g_type_name(arg_type)));
      json_append(args, arg);
      if (G_TYPE_IS_ENUM(arg_type) || G_TYPE_IS_FLAGS(arg_type))
        add_enum_type(other_types, arg_type);
    }
    const GType return_type = query.return_type & ~G_SIGNAL_TYPE_STATIC_SCOPE;
    json_set(signal, "return-type", json_string(g_type_name(return_type)));
    json_set(signal, "when", json_string(signal_when(query.signal_flags)));
    if (query.signal_flags & G_SIGNAL_ACTION)
      json_set(signal, "action", json_bool(TRUE));
    if (query.signal_flags & G_SIGNAL_NO_RECURSE)
      json_set(signal, "no-recurse", json_bool(TRUE));
    if (query.signal_flags & G_SIGNAL_DETAILED)
      json_set(signal, "detailed", json_bool(TRUE));
    if (query.signal_flags & G_SIGNAL_NO_HOOKS)
      json_set(signal, "no-hooks", json_bool(TRUE));
  }
  g_free(ids);
}

static gboolean add_caps_field(GQuark field, const GValue *value, gpointer data) {
  gchar *text = gst_value_serialize(value);
  /* "(string)RGB" -> "RGB", as upstream writes format lists */
  gchar **parts = g_strsplit(text, "(string)", -1);
  gchar *clean = g_strjoinv("", parts);
  g_string_append_printf(data, "%15s: %s\n", g_quark_to_string(field), clean);
  g_strfreev(parts);
  g_free(clean);
  g_free(text);
  return TRUE;
}

/* Caps in upstream's layout: a line per structure, then a line per field, names right-aligned. */
static gchar *caps_text(GstCaps *caps) {
  if (gst_caps_is_any(caps))
    return g_strdup("ANY");
  if (gst_caps_is_empty(caps))
    return g_strdup("EMPTY");
  GString *text = g_string_new(NULL);
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    GstStructure *s = gst_caps_get_structure(caps, i);
    GstCapsFeatures *features = gst_caps_get_features(caps, i);
    if (features &&
        (gst_caps_features_is_any(features) ||
         !gst_caps_features_is_equal(features, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY))) {
      gchar *f = gst_caps_features_to_string(features);
      g_string_append_printf(text, "%s%s(%s):\n", i ? "\n" : "", gst_structure_get_name(s), f);
      g_free(f);
    } else {
      g_string_append_printf(text, "%s:\n", gst_structure_get_name(s));
    }
    gst_structure_foreach(s, add_caps_field, text);
  }
  return g_string_free(text, FALSE);
}

static void add_pad_templates(Json *element_json, GstElementFactory *factory, GstElement *element) {
  Json *templates = json_object();
  for (const GList *l = gst_element_factory_get_static_pad_templates(factory); l; l = l->next) {
    const GstStaticPadTemplate *st = l->data;
    GstPadTemplate *tmpl =
        gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(element), st->name_template);
    GstCaps *caps = gst_pad_template_get_documentation_caps(tmpl);
    Json *pad = json_set(templates, st->name_template, json_object());
    json_set(pad, "caps", json_take_string(caps_text(caps)));
    gst_caps_unref(caps);
    json_set(pad, "direction",
             json_string(st->direction == GST_PAD_SRC    ? "src"
                         : st->direction == GST_PAD_SINK ? "sink"
                                                         : "unknown"));
    json_set(pad, "presence",
             json_string(st->presence == GST_PAD_ALWAYS      ? "always"
                         : st->presence == GST_PAD_SOMETIMES ? "sometimes"
                                                             : "request"));
  }
  if (g_tree_nnodes(templates->members))
    json_set(element_json, "pad-templates", templates);
  else
    json_free(templates);
}

static const gchar *rank_name(guint rank) {
  switch (rank) {
  case GST_RANK_NONE:
    return "none";
  case GST_RANK_MARGINAL:
    return "marginal";
  case GST_RANK_SECONDARY:
    return "secondary";
  case GST_RANK_PRIMARY:
    return "primary";
  default:
    return "other";
  }
}

static gboolean add_element(Json *elements, Json *other_types, GstElementFactory *factory) {
  GstElement *element = gst_element_factory_create(factory, NULL);
  if (!element) {
    g_printerr("flagmask-plugins-cache: cannot create element '%s'\n", GST_OBJECT_NAME(factory));
    return FALSE;
  }
  gst_object_ref_sink(element);
  Json *e = json_set(elements, GST_OBJECT_NAME(factory), json_object());
  json_set(e, "rank",
           json_string(rank_name(gst_plugin_feature_get_rank(GST_PLUGIN_FEATURE(factory)))));
  gchar **keys = gst_element_factory_get_metadata_keys(factory);
  for (gchar **k = keys; k && *k; ++k)
    json_set(e, *k, json_string(gst_element_factory_get_metadata(factory, *k)));
  g_strfreev(keys);

  Json *hierarchy = json_set(e, "hierarchy", json_array());
  for (GType t = G_OBJECT_TYPE(element); t; t = g_type_parent(t))
    json_append(hierarchy, json_string(g_type_name(t)));
  guint n_interfaces = 0;
  GType *interfaces = g_type_interfaces(G_OBJECT_TYPE(element), &n_interfaces);
  if (n_interfaces) {
    Json *list = json_set(e, "interfaces", json_array());
    for (guint i = 0; i < n_interfaces; ++i)
      json_append(list, json_string(g_type_name(interfaces[i])));
  }
  g_free(interfaces);

  add_properties(e, other_types, G_OBJECT(element));
  add_signals(e, other_types, G_OBJECT_TYPE(element));
  add_pad_templates(e, factory, element);
  gst_object_unref(element);
  return TRUE;
}

/* The plugin in the file at path, as upstream's cache describes a plugin. NULL on failure. */
static Json *describe_plugin(const gchar *path, gchar **name) {
  GError *error = NULL;
  GstPlugin *plugin = gst_plugin_load_file(path, &error);
  if (!plugin) {
    g_printerr("flagmask-plugins-cache: cannot load '%s' as a GStreamer plugin: %s\n", path,
               error ? error->message : "no reason given");
    g_clear_error(&error);
    return NULL;
  }
  Json *p = json_object();
  gchar *base = g_path_get_basename(path);
  gchar *dot = strchr(base, '.');
  if (dot)
    *dot = '\0';
  json_set(p, "filename", json_string(g_str_has_prefix(base, "lib") ? base + 3 : base));
  g_free(base);
  json_set(p, "description", json_string(gst_plugin_get_description(plugin)));
  json_set(p, "license", json_string(gst_plugin_get_license(plugin)));
  json_set(p, "package", json_string(gst_plugin_get_package(plugin)));
  json_set(p, "source", json_string(gst_plugin_get_source(plugin)));
  json_set(p, "url", json_string(gst_plugin_get_origin(plugin)));
  json_set(p, "tracers", json_object());
  Json *elements = json_set(p, "elements", json_object());
  Json *other_types = json_set(p, "other-types", json_object());

  gboolean ok = TRUE;
  GList *features =
      gst_registry_get_feature_list_by_plugin(gst_registry_get(), gst_plugin_get_name(plugin));
  for (GList *l = features; l; l = l->next)
    if (GST_IS_ELEMENT_FACTORY(l->data))
      ok = add_element(elements, other_types, GST_ELEMENT_FACTORY(l->data)) && ok;
  gst_plugin_feature_list_free(features);
  *name = g_strdup(gst_plugin_get_name(plugin));
  gst_object_unref(plugin);
  if (!ok) {
    json_free(p);
    return NULL;
  }
  return p;
}

/* Writes text to path unless the file already holds exactly that text. */
static gboolean write_if_changed(const gchar *path, const GString *text) {
  gchar *old = NULL;
  gsize old_len = 0;
  if (g_file_get_contents(path, &old, &old_len, NULL) && old_len == text->len &&
      memcmp(old, text->str, old_len) == 0) {
    g_free(old);
    g_print("%s is up to date\n", path);
    return TRUE;
  }
  g_free(old);
  GError *error = NULL;
  if (!g_file_set_contents(path, text->str, (gssize)text->len, &error)) {
    g_printerr("flagmask-plugins-cache: cannot write '%s': %s\n", path, error->message);
    g_clear_error(&error);
    return FALSE;
  }
  g_print("wrote %s\n", path);
  return TRUE;
}

int main(int argc, char **argv) {
  if (argc != 3 || g_str_equal(argv[1], "--help")) {
    g_printerr("usage: flagmask-plugins-cache OUTPUT.json|- PLUGIN.so\n"
               "Writes the plugin's documentation cache (gst_plugins_cache.json layout).\n");
    return argc == 2 && g_str_equal(argv[1], "--help") ? 0 : 2;
  }
  setlocale(LC_ALL, "");
  setlocale(LC_NUMERIC, "C"); /* "0.5", never "0,5" */
  gst_init(NULL, NULL);

  gchar *name = NULL;
  Json *plugin = describe_plugin(argv[2], &name);
  if (!plugin) {
    gst_deinit();
    return 1;
  }
  Json *root = json_object();
  json_set(root, name, plugin);
  g_free(name);
  GString *text = g_string_new(NULL);
  write_json(text, root, 0);
  g_string_append_c(text, '\n');
  json_free(root);

  gboolean ok = TRUE;
  if (g_str_equal(argv[1], "-"))
    fputs(text->str, stdout);
  else
    ok = write_if_changed(argv[1], text);
  g_string_free(text, TRUE);
  gst_deinit(); /* what GStreamer keeps until exit, freed for leak checkers */
  return ok ? 0 : 1;
}
