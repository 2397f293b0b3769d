// flagmask: the whole core library, for programs that want everything.
#pragma once

#include "error.h"
#include "frame.h"
#include "image_io.h"
#include "key_masks.h"
#include "model.h"
#include "model_file.h"
#include "network.h"
#include "params.h"
#include "seed_box.h"
#include "segmenter.h"
#include "stream.h"
