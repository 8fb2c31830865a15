// Forwarding shim, to be removed at merge: the served value moved to snapshot/metric_point.h
// and the publisher to snapshot/publisher.h. It keeps reconciler::MetricPoint compiling for
// code written against the old header (reconciler/loop.h) without linking gRPC: it forwards
// only the value type. Include "snapshot/metric_point.h" (or "snapshot/publisher.h") instead.
//
//   reconciler::MetricPoint p;   // the same type as snapshot::MetricPoint
#pragma once

#include "snapshot/metric_point.h"

namespace reconciler {

using MetricPoint = snapshot::MetricPoint;

}  // namespace reconciler
