// web_wiring: the reconciler's page options and component health checks (reconciler/web)
// over the real store, Prometheus client, cluster source and snapshot publisher.
//
//   reconciler::web::WebOptions web = cli::MakeWebOptions(store.get(), &prom_http,
//       cluster.get(), &publisher, &loop, clock, config.check_interval);
#pragma once

#include "base/clock.h"
#include "clients/http/resilient_http_client.h"
#include "reconciler/cluster.h"
#include "reconciler/loop.h"
#include "reconciler/web/web.h"
#include "snapshot/publisher.h"
#include "storage/store.h"

namespace cli {

// Checks: store (open, size; not required: the reconciler runs degraded without it),
// prometheus (breaker state, the last cycle's queries and their age; required), kubernetes
// (informers synced, events; required), snapshot_stream (connected adapters; not required). Every
// pointer but `store` is required and must outlive the options' use.
reconciler::web::WebOptions MakeWebOptions(const storage::Store* store,
                                           const clients::http::ResilientHttpClient* prom,
                                           reconciler::ClusterSource* cluster,
                                           const snapshot::Publisher* publisher,
                                           const reconciler::Reconciler* loop,
                                           const base::Clock* clock, absl::Duration interval);

}  // namespace cli
