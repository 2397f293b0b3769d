#include "params.h"

#include "error.h"

#include <string>

namespace flagmask {
namespace {

void checkRange(double value, const Limits &limits, const char *name) {
  if (!limits.contains(value))
    throw Error(std::string("flagmask: ") + name + " must be in [" + std::to_string(limits.min) +
                ", " + std::to_string(limits.max) + "], got " + std::to_string(value));
}

} // namespace

void checkParams(const SegmenterParams &params) {
  checkRange(params.threshold, kThresholdLimits, "threshold");
  checkRange(params.working_size, {kMinWorkingSize, kMaxWorkingSize}, "working size");
  checkRange(params.temporal_weight, kWeightLimits, "temporal weight");
  checkRange(params.motion_weight, kWeightLimits, "motion weight");
  checkRange(params.adapt_rate, kWeightLimits, "adaptation rate");
  checkRange(params.hysteresis, kHysteresisLimits, "hysteresis");
}

} // namespace flagmask
