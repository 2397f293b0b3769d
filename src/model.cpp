#include "model.h"

#include "error.h"
#include "image_io.h"

#include <opencv2/imgproc.hpp>

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flagmask {
namespace {

constexpr int kMinBins = 4;
constexpr int kMaxBins = 64;
// More training frames than any video has: a larger count in a file is a corrupt one.
constexpr int kMaxTrainingFrames = 10000000;
// Added to every bin's density so that a colour never seen in training gets a neutral, not a
// certain, answer; and a colour seen a few times in one class and never in the other only a
// leaning one. At 1e-6 a brown trunk popping up beside the hard synthetic flag scored 0.98 object
// from a few JPEG-blurred pixels of the flag's dark red shading, and was tracked as flag for 28
// frames (hard flag J&F 0.886). On the dev split, with the tracker of the fourth session: 1e-6
// 0.752, 5e-6 0.751, 1e-5 0.751, 2e-5 0.750, 4e-5 0.747; hard flag 0.886, 0.888, 0.961, 0.992,
// 0.992.
constexpr float kSmoothing = 1e-5f;

cv::Mat toLab(cv::InputArray frame_bgr) {
  cv::Mat frame = frame_bgr.getMat();
  if (frame.empty() || frame.type() != CV_8UC3)
    throw Error("flagmask: a frame must be a non-empty 8-bit 3-channel BGR image");
  cv::Mat lab;
  cv::cvtColor(frame, lab, cv::COLOR_BGR2Lab);
  return lab;
}

cv::Mat maskAtSize(cv::InputArray mask, cv::Size size, const char *what) {
  cv::Mat m = mask.getMat();
  if (m.empty())
    return cv::Mat::zeros(size, CV_8U);
  if (m.type() != CV_8UC1)
    throw Error(std::string("flagmask: the ") + what + " must be an 8-bit single-channel image");
  return resizeMask(m, size);
}

cv::Mat joinedHistogram(const cv::Mat &lab, const cv::Mat &mask, int bins) {
  const int channels[] = {0, 1, 2};
  const int sizes[] = {bins, bins, bins};
  const float range[] = {0, 256};
  const float *ranges[] = {range, range, range};
  cv::Mat hist;
  cv::calcHist(&lab, 1, channels, mask, hist, 3, sizes, ranges, true, false);
  return hist; // CV_32F, bins x bins x bins
}

// A stored matrix is read by OpenCV only once its declared shape matches what the model needs:
// OpenCV allocates rows x cols before it looks at the data, so a forged header could otherwise
// make it allocate gigabytes.
void checkHistogramShape(const cv::FileNode &hist, const std::string &path, const char *name,
                         int expected) {
  const auto malformed = [&](const std::string &reason) {
    return Error("flagmask: model file '" + path + "' is malformed: '" + name + "' " + reason);
  };
  if (hist.empty() || !hist.isMap())
    throw malformed("is missing or not a matrix");
  const cv::FileNode rows = hist["rows"], cols = hist["cols"], dt = hist["dt"], data = hist["data"];
  if (!rows.isInt() || !cols.isInt() || !dt.isString() || !data.isSeq())
    throw malformed("is not a matrix (rows, cols, dt and data are needed)");
  const std::int64_t declared = std::int64_t(static_cast<int>(rows)) * static_cast<int>(cols);
  if (declared != expected || dt.string() != "f" || data.size() != std::size_t(expected))
    throw malformed("should hold " + std::to_string(expected) + " float values, but declares " +
                    std::to_string(static_cast<int>(rows)) + "x" +
                    std::to_string(static_cast<int>(cols)) + " of type '" + dt.string() +
                    "' with " + std::to_string(data.size()) + " values");
}

void checkHistogram(const cv::FileNode &node, const std::string &path, const char *name, int bins,
                    cv::Mat &out) {
  const int expected = bins * bins * bins;
  checkHistogramShape(node[name], path, name, expected);
  cv::Mat flat;
  node[name] >> flat;
  if (flat.empty() || flat.type() != CV_32F || static_cast<int>(flat.total()) != expected)
    throw Error("flagmask: model file '" + path + "' is malformed: '" + name + "' should hold " +
                std::to_string(expected) + " float values");
  if (cv::checkRange(flat, true, nullptr, 0.0, 1e12) == false)
    throw Error("flagmask: model file '" + path + "' is malformed: '" + name +
                "' has negative or non-finite counts");
  const int sizes[] = {bins, bins, bins};
  out = flat.reshape(1, 3, sizes).clone();
}

// The largest model is 64 bins: two histograms of 262144 floats, about 9 MB of YAML.
constexpr std::size_t kMaxModelFileBytes = std::size_t(64) << 20;
constexpr std::size_t kMaxModelTextBytes = std::size_t(64) << 20;

bool isGzip(const std::vector<std::uint8_t> &bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

// Decompresses a gzip file (one member or several) into at most kMaxModelTextBytes, so that a
// small compressed file cannot expand without bound.
std::string gunzip(const std::vector<std::uint8_t> &bytes, const std::string &path) {
  const std::string prefix = "flagmask: could not read model file '" + path + "': ";
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    throw Error(prefix + "zlib could not start");
  const std::unique_ptr<z_stream, int (*)(z_stream *)> guard(&z, &inflateEnd);
  z.next_in = const_cast<Bytef *>(bytes.data());
  z.avail_in = static_cast<uInt>(bytes.size());
  std::string text;
  char chunk[1 << 16];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef *>(chunk);
    z.avail_out = sizeof chunk;
    const int status = inflate(&z, Z_NO_FLUSH);
    text.append(chunk, sizeof chunk - z.avail_out);
    if (text.size() > kMaxModelTextBytes)
      throw Error(prefix + "it decompresses to more than " +
                  std::to_string(kMaxModelTextBytes >> 20) + " MB, more than any model");
    if (status == Z_STREAM_END && z.avail_in == 0)
      return text;
    if (status == Z_STREAM_END)
      inflateReset(&z); // another gzip member follows
    else if (status == Z_BUF_ERROR || (status == Z_OK && z.avail_in == 0 && z.avail_out != 0))
      throw Error(prefix + "the gzip data is cut short");
    else if (status != Z_OK)
      throw Error(prefix + "the gzip data is damaged (" + (z.msg ? z.msg : "zlib error") + ")");
  }
}

// ---- The shape of a model file, checked before OpenCV parses it ------------------------------
// OpenCV 4.6's FileStorage readers crash (XML) or never return (YAML) on some malformed files
// (found by fuzz-model, see docs/reliability.md). So OpenCV only gets text that has, line by line,
// the shape Model::save writes: the YAML header, `key: scalar` lines and matrices (`key:
// !!opencv-matrix`, then indented rows, cols, dt and a bracketed list of numbers).

bool isKeyChar(char c, bool first) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) || c == '_' || (!first && std::isdigit(u));
}

// Splits "key: value" (value may be empty); false when the line is not of that form.
bool splitKey(std::string_view line, std::string_view &key, std::string_view &value) {
  std::size_t n = 0;
  while (n < line.size() && isKeyChar(line[n], n == 0))
    ++n;
  if (n == 0 || n >= line.size() || line[n] != ':' || (n + 1 < line.size() && line[n + 1] != ' '))
    return false;
  key = line.substr(0, n);
  value = line.substr(std::min(line.size(), n + 2));
  return true;
}

// A scalar as OpenCV writes one: a word or number, or a double-quoted string without quotes or
// backslashes inside.
bool isPlainScalar(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
    return v.substr(1, v.size() - 2).find_first_of("\"\\") == std::string_view::npos;
  if (v.empty() || v.size() > 256 || v == "-")
    return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' ||
           c == '-';
  });
}

// A number as OpenCV writes one: 12, 12., 1.5e-01, .Nan, .Inf, -.Inf.
bool isNumber(std::string_view t) {
  if (t == ".Nan" || t == ".Inf" || t == "-.Inf")
    return true;
  const auto digit = [&](std::size_t i) {
    return i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]));
  };
  std::size_t i = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0, digits = 0;
  for (; digit(i); ++i)
    ++digits;
  if (i < t.size() && t[i] == '.')
    for (++i; digit(i); ++i)
      ++digits;
  if (digits == 0)
    return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    i += (i + 1 < t.size() && (t[i + 1] == '+' || t[i + 1] == '-')) ? 2 : 1;
    if (!digit(i))
      return false;
    while (digit(i))
      ++i;
  }
  return i == t.size() && t.size() <= 32;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\r'))
    v.remove_suffix(1);
  return v;
}

// One line of a list of numbers: items separated by commas, the list closed by ']' or going on
// after a trailing comma. Counts the items; false when one is not a number.
bool isDataLine(std::string_view items, bool &closed, std::size_t &count) {
  items = trim(items);
  closed = !items.empty() && items.back() == ']';
  if (closed)
    items = trim(items.substr(0, items.size() - 1));
  while (!items.empty()) {
    const std::size_t comma = items.find(',');
    const std::string_view item = trim(items.substr(0, comma));
    if (!isNumber(item))
      return false;
    ++count;
    if (comma == std::string_view::npos)
      break;
    items = trim(items.substr(comma + 1));
  }
  return true;
}

bool isMatrixField(std::string_view key, std::string_view value) {
  const bool digits = std::all_of(value.begin(), value.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
  const bool word = std::all_of(value.begin(), value.end(),
                                [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
  if (value.empty() || value.size() > 10)
    return false;
  return ((key == "rows" || key == "cols") && digits) || (key == "dt" && word);
}

std::string printable(std::string_view text, std::size_t n = 40) {
  std::string out(text.substr(0, n));
  for (char &c : out)
    if (!std::isprint(static_cast<unsigned char>(c)))
      c = '?';
  return out;
}

class ModelShape {
public:
  explicit ModelShape(const std::string &path) : path_(path) {}

  void check(const std::string &text) {
    std::size_t start = 0;
    for (line_ = 1; start < text.size(); ++line_) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      checkLine(std::string_view(text).substr(start, end - start));
      start = end + 1;
    }
    if (state_ != State::Top)
      fail("it is cut short (the file ends inside a matrix)");
  }

private:
  enum class State { Header, DocumentStart, Top, Matrix, Data };
  // The largest list a model holds: 64 bins cubed.
  static constexpr std::size_t kMaxValues = 64 * 64 * 64;

  [[noreturn]] void fail(const std::string &reason) const {
    throw Error("flagmask: could not read model file '" + path_ + "': " + reason);
  }
  [[noreturn]] void unexpected(std::string_view line) const {
    fail("line " + std::to_string(line_) + " is not what a flagmask model holds: '" +
         printable(line) + "'");
  }

  void checkLine(std::string_view line) {
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    switch (state_) {
    case State::Header:
      if (line != "%YAML:1.0")
        fail("it is not YAML as flagmask writes it (a model starts with the line %YAML:1.0, this "
             "file with '" +
             printable(line, 16) + "')");
      state_ = State::DocumentStart;
      return;
    case State::DocumentStart:
      if (line != "---")
        unexpected(line);
      state_ = State::Top;
      return;
    case State::Matrix:
      if (!line.empty() && line.front() == ' ')
        return matrixLine(trim(line));
      state_ = State::Top; // a matrix without data: OpenCV will say so
      return topLine(line);
    case State::Data:
      return dataLine(line);
    case State::Top:
      return topLine(line);
    }
  }

  void topLine(std::string_view line) {
    std::string_view key, value;
    if (line.empty()) // OpenCV ends the file with a newline
      return;
    if (!splitKey(line, key, value))
      unexpected(line);
    if (value == "!!opencv-matrix")
      state_ = State::Matrix;
    else if (!isPlainScalar(trim(value)))
      unexpected(line);
  }

  void matrixLine(std::string_view line) {
    std::string_view key, value;
    if (!splitKey(line, key, value))
      unexpected(line);
    if (key != "data") {
      if (!isMatrixField(key, trim(value)))
        unexpected(line);
      return;
    }
    value = trim(value);
    if (value.empty() || value.front() != '[')
      unexpected(line);
    values_ = 0;
    state_ = State::Data;
    dataLine(value.substr(1));
  }

  void dataLine(std::string_view line) {
    bool closed = false;
    if (!isDataLine(line, closed, values_))
      unexpected(line);
    if (values_ > kMaxValues)
      fail("a matrix holds more than " + std::to_string(kMaxValues) + " values");
    if (closed)
      state_ = State::Top;
  }

  const std::string &path_;
  State state_ = State::Header;
  std::size_t line_ = 0, values_ = 0;
};

// The text of a model file, ready for OpenCV's YAML reader: decompressed, of the shape checked
// above, and so free of NUL bytes (which would end the text OpenCV sees early).
std::string modelText(const std::vector<std::uint8_t> &bytes, const std::string &path) {
  std::string text = isGzip(bytes) ? gunzip(bytes, path) : std::string(bytes.begin(), bytes.end());
  ModelShape(path).check(text);
  if (text.find('\0') != std::string::npos) // no shape allows one; said again for OpenCV's sake
    throw Error("flagmask: could not read model file '" + path + "': it holds a NUL byte");
  return text;
}

std::string parseError(const std::string &what) {
  return "it is not well-formed YAML, or it is cut short (OpenCV: " + what + ")";
}

// The object's box grown by this fraction of its size on every side is where background samples
// come from by default: the colours next to the object are the ones to tell apart (+0.05 J&F on
// the DAVIS dev split over sampling the whole frame).
constexpr double kSurroundings = 0.25;

// The optional `frames` field: absent (files written before it existed) counts as one frame.
int trainingFrames(const cv::FileNode &node, const std::string &path) {
  if (node.empty())
    return 1;
  const int frames = node.isInt() ? static_cast<int>(node) : 0;
  if (frames < 1 || frames > kMaxTrainingFrames)
    throw Error("flagmask: model file '" + path +
                "' is malformed: frames must be an integer in [1, " +
                std::to_string(kMaxTrainingFrames) + "]");
  return frames;
}

cv::Mat surroundings(const cv::Mat &mask) {
  const cv::Rect box = cv::boundingRect(mask);
  const int dx = static_cast<int>(kSurroundings * box.width);
  const int dy = static_cast<int>(kSurroundings * box.height);
  const cv::Rect region =
      cv::Rect(box.x - dx, box.y - dy, box.width + 2 * dx, box.height + 2 * dy) &
      cv::Rect(0, 0, mask.cols, mask.rows);
  cv::Mat out = cv::Mat::zeros(mask.size(), CV_8U);
  out(region).setTo(255);
  return out;
}

} // namespace

Model::Model(int bins_per_channel) : bins_(bins_per_channel) {
  if (bins_ < kMinBins || bins_ > kMaxBins)
    throw Error("flagmask: model bins per channel must be in [" + std::to_string(kMinBins) + ", " +
                std::to_string(kMaxBins) + "], got " + std::to_string(bins_));
  const int sizes[] = {bins_, bins_, bins_};
  object_hist_ = cv::Mat::zeros(3, sizes, CV_32F);
  background_hist_ = cv::Mat::zeros(3, sizes, CV_32F);
  updatePosterior();
}

Model::Model(const Model &other)
    : bins_(other.bins_), object_hist_(other.object_hist_.clone()),
      background_hist_(other.background_hist_.clone()), object_count_(other.object_count_),
      background_count_(other.background_count_), object_fraction_(other.object_fraction_),
      frames_(other.frames_), posterior_(other.posterior_.clone()) {}

Model &Model::operator=(const Model &other) {
  if (this != &other)
    *this = Model(other);
  return *this;
}

void Model::histograms(const cv::Mat &lab, const cv::Mat &object, const cv::Mat &background,
                       cv::Mat &object_hist, cv::Mat &background_hist) const {
  object_hist = joinedHistogram(lab, object, bins_);
  background_hist = joinedHistogram(lab, background, bins_);
}

void Model::add(cv::InputArray frame_bgr, cv::InputArray mask, cv::InputArray region) {
  const cv::Mat lab = toLab(frame_bgr);
  const cv::Mat object = maskAtSize(mask, lab.size(), "training mask");
  if (cv::countNonZero(object) == 0)
    throw Error("flagmask: the training mask has no object pixel");
  cv::Mat background = object == 0;
  background &=
      region.empty() ? surroundings(object) : maskAtSize(region, lab.size(), "training region");
  if (cv::countNonZero(background) == 0)
    background = object == 0; // the object fills its surroundings: take the rest of the frame
  cv::Mat oh, bh;
  histograms(lab, object, background, oh, bh);
  object_hist_ += oh;
  background_hist_ += bh;
  object_count_ += cv::sum(oh)[0];
  background_count_ += cv::sum(bh)[0];
  const double fraction = cv::countNonZero(object) / static_cast<double>(object.total());
  object_fraction_ = (object_fraction_ * frames_ + fraction) / (frames_ + 1);
  ++frames_;
  updatePosterior();
}

void Model::adapt(cv::InputArray frame_bgr, cv::InputArray mask, cv::InputArray ignore,
                  double rate) {
  if (!(rate > 0 && rate <= 1) || !trained())
    return;
  adaptLab(toLab(frame_bgr), mask, ignore, rate);
}

void Model::adaptLab(cv::InputArray lab_in, cv::InputArray mask, cv::InputArray ignore,
                     double rate) {
  if (!(rate > 0 && rate <= 1) || !trained())
    return;
  const cv::Mat lab = lab_in.getMat();
  if (lab.empty() || lab.type() != CV_8UC3)
    throw Error("flagmask: adaptLab needs an 8-bit 3-channel Lab image");
  const cv::Mat object = maskAtSize(mask, lab.size(), "adaptation mask");
  cv::Mat background = object == 0;
  if (!ignore.empty()) {
    const cv::Mat skip = maskAtSize(ignore, lab.size(), "ignore mask");
    background.setTo(0, skip);
  }
  cv::Mat oh, bh;
  histograms(lab, object, background, oh, bh);
  const double n_object = cv::sum(oh)[0], n_background = cv::sum(bh)[0];
  // Blend normalised shapes, keeping each histogram's mass: the model forgets old frames at `rate`
  // per frame whatever the object's size.
  if (n_object > 0)
    object_hist_ = object_hist_ * (1 - rate) + oh * (rate * object_count_ / n_object);
  if (n_background > 0)
    background_hist_ =
        background_hist_ * (1 - rate) + bh * (rate * background_count_ / n_background);
  updatePosterior();
}

void Model::updatePosterior() {
  // Likelihoods with equal priors: the spatial prior (where the object was) comes from tracking,
  // not from how big the object happened to be in training.
  const double no = std::max(object_count_, 1.0), nb = std::max(background_count_, 1.0);
  cv::Mat po = object_hist_ / no + kSmoothing;
  cv::Mat pb = background_hist_ / nb + kSmoothing;
  posterior_ = po / (po + pb);
}

void Model::predictLab(cv::InputArray lab_in, cv::OutputArray probability) const {
  cv::Mat lab = lab_in.getMat();
  if (lab.empty() || lab.type() != CV_8UC3)
    throw Error("flagmask: predictLab needs an 8-bit 3-channel Lab image");
  const int channels[] = {0, 1, 2};
  const float range[] = {0, 256};
  const float *ranges[] = {range, range, range};
  // The back projection has the image's 8-bit depth: scale the posterior to 0..255 so it keeps
  // 256 levels instead of being rounded to 0 or 1.
  cv::Mat out;
  cv::calcBackProject(&lab, 1, channels, posterior_, out, ranges, 255.0, true);
  out.convertTo(probability, CV_32F, 1.0 / 255);
}

void Model::predict(cv::InputArray frame_bgr, cv::OutputArray probability) const {
  predictLab(toLab(frame_bgr), probability);
}

void Model::save(const std::string &path) const {
  cv::FileStorage fs;
  try {
    // YAML whatever the name's extension (.gz compresses it): the only format load() reads.
    fs.open(path, cv::FileStorage::WRITE | cv::FileStorage::FORMAT_YAML);
  } catch (const cv::Exception &e) {
    throw Error("flagmask: could not write model file '" + path + "': " + e.err);
  }
  if (!fs.isOpened())
    throw Error("flagmask: could not write model file '" + path + "'");
  fs << "format" << kFormatName << "version" << kFormatVersion;
  fs << "colour_space"
     << "Lab"
     << "bins" << bins_;
  fs << "object_count" << object_count_ << "background_count" << background_count_;
  fs << "object_fraction" << object_fraction_ << "frames" << frames_;
  fs << "object_hist" << object_hist_.reshape(1, 1) << "background_hist"
     << background_hist_.reshape(1, 1);
}

Model Model::load(const std::string &path) {
  return fromBytes(readFileBytes(path, "model file", kMaxModelFileBytes), path);
}

Model Model::fromBytes(const std::vector<std::uint8_t> &bytes, const std::string &name) {
  const std::string text = modelText(bytes, name);
  cv::FileStorage fs;
  try {
    if (!fs.open(text,
                 cv::FileStorage::READ | cv::FileStorage::MEMORY | cv::FileStorage::FORMAT_YAML))
      throw Error("flagmask: could not read model file '" + name + "': not a YAML file");
    return fromStorage(fs, name);
  } catch (const Error &) {
    throw;
  } catch (const cv::Exception &e) {
    throw Error("flagmask: could not read model file '" + name + "': " + parseError(e.err));
  } catch (const std::exception &e) {
    // OpenCV 4.6's YAML reader lets some malformed input end in std::length_error (found by
    // fuzz-model): a bad file all the same.
    throw Error("flagmask: could not read model file '" + name + "': " + parseError(e.what()));
  }
}

Model Model::fromStorage(const cv::FileStorage &fs, const std::string &path) {
  const std::string format = fs["format"].isString() ? fs["format"].string() : "";
  if (format != kFormatName)
    throw Error("flagmask: model file '" + path + "' is not a flagmask model (format '" + format +
                "', expected '" + kFormatName + "')");
  const int version = fs["version"].isInt() ? static_cast<int>(fs["version"]) : -1;
  if (version != kFormatVersion)
    throw Error("flagmask: model file '" + path + "' has version " + std::to_string(version) +
                ", this build reads version " + std::to_string(kFormatVersion));
  const int bins = fs["bins"].isInt() ? static_cast<int>(fs["bins"]) : -1;
  if (bins < kMinBins || bins > kMaxBins)
    throw Error("flagmask: model file '" + path + "' is malformed: bins " + std::to_string(bins) +
                " is out of range");
  Model model(bins);
  checkHistogram(fs.root(), path, "object_hist", bins, model.object_hist_);
  checkHistogram(fs.root(), path, "background_hist", bins, model.background_hist_);
  const double fraction =
      fs["object_fraction"].isReal() ? static_cast<double>(fs["object_fraction"]) : -1.0;
  if (!(fraction > 0 && fraction <= 1))
    throw Error("flagmask: model file '" + path +
                "' is malformed: object_fraction must be in (0, 1]");
  model.object_fraction_ = fraction;
  model.frames_ = trainingFrames(fs["frames"], path);
  model.object_count_ = cv::sum(model.object_hist_)[0];
  model.background_count_ = cv::sum(model.background_hist_)[0];
  if (!model.trained())
    throw Error("flagmask: model file '" + path + "' is malformed: it holds no training pixels");
  model.updatePosterior();
  return model;
}

} // namespace flagmask
