// The delegating authorizer: union of always-allow groups, always-allow
// non-resource paths and a SubjectAccessReview webhook, as k8s.io/apiserver's
// DelegatingAuthorizationOptions builds it; first "allow" wins.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapter/auth/auth.h"
#include "adapter/auth/ttl_cache.h"
#include "base/clock.h"
#include "clients/kube/auth_api.h"
#include "glog/logging.h"

namespace adapter::auth {
namespace {

bool IsAnonymous(const UserInfo& u) {
  return u.name == "system:anonymous" ||
         std::find(u.groups.begin(), u.groups.end(), "system:unauthenticated") != u.groups.end();
}

void Bump(std::atomic<int64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

// A cached SAR decision.
struct Decision {
  bool allowed = false;
  std::string reason;
};

class DelegatingAuthorizer : public Authorizer {
 public:
  DelegatingAuthorizer(const AuthConfig& config, clients::kube::AuthApi* api,
                       const base::Clock* clock, AuthCounters* counters)
      : config_(config),
        api_(api),
        counters_(counters != nullptr ? counters : &own_counters_),
        cache_(clock, 100000) {}

  absl::Status Authorize(const UserInfo& u, const Attributes& a) override {
    absl::Status s = Decide(u, a);
    if (s.ok()) {
      Bump(counters_->allowed);
    } else if (s.code() == absl::StatusCode::kPermissionDenied) {
      Bump(counters_->forbidden);
    } else {
      Bump(counters_->authz_errors);
    }
    return s;
  }

 private:
  absl::Status Decide(const UserInfo& u, const Attributes& a) {
    for (const std::string& g : u.groups) {
      if (std::find(config_.always_allow_groups.begin(), config_.always_allow_groups.end(), g) !=
          config_.always_allow_groups.end()) {
        return absl::OkStatus();
      }
    }
    if (!a.resource_request && PathAlwaysAllowed(a.path)) return absl::OkStatus();
    if (IsAnonymous(u)) {
      return absl::PermissionDeniedError(ForbiddenMessage(u, a, "anonymous access is disabled"));
    }
    if (api_ == nullptr) {
      return absl::PermissionDeniedError(
          ForbiddenMessage(u, a, "no authorizer (no Kubernetes API credentials)"));
    }
    clients::kube::SubjectAccessReviewSpec spec = SpecFor(u, a);
    const std::string key = clients::kube::SubjectAccessReviewJson(spec);
    std::optional<Decision> d = cache_.Get(key);
    if (d.has_value()) {
      Bump(counters_->access_cache_hits);
    } else {
      Bump(counters_->access_reviews);
      absl::StatusOr<clients::kube::SubjectAccessReviewStatus> s = api_->ReviewAccess(spec);
      if (!s.ok()) {
        LOG_EVERY_N(WARNING, 100) << "SubjectAccessReview failed, denying (fail closed): "
                                  << s.status();
        return absl::InternalError(
            absl::StrCat("subject access review failed: ", s.status().message()));
      }
      d = Decision{s->allowed && !s->denied, s->reason};
      cache_.Put(key, *d,
                 d->allowed ? config_.authorized_cache_ttl : config_.unauthorized_cache_ttl);
    }
    if (d->allowed) return absl::OkStatus();
    return absl::PermissionDeniedError(ForbiddenMessage(u, a, d->reason));
  }

  bool PathAlwaysAllowed(const std::string& path) const {
    for (const std::string& p : config_.always_allow_paths) {
      if (!p.empty() && p.back() == '*') {
        if (absl::StartsWith(path, absl::string_view(p).substr(0, p.size() - 1))) return true;
      } else if (p == path) {
        return true;
      }
    }
    return false;
  }

  static clients::kube::SubjectAccessReviewSpec SpecFor(const UserInfo& u, const Attributes& a) {
    clients::kube::SubjectAccessReviewSpec spec;
    spec.user = u.name;
    spec.uid = u.uid;
    spec.groups = u.groups;
    spec.extra = u.extra;
    spec.is_resource = a.resource_request;
    if (a.resource_request) {
      spec.resource.namespace_name = a.namespace_name;
      spec.resource.verb = a.verb;
      spec.resource.group = a.group;
      spec.resource.version = a.version;
      spec.resource.resource = a.resource;
      spec.resource.subresource = a.subresource;
      spec.resource.name = a.name;
    } else {
      spec.non_resource.path = a.path;
      spec.non_resource.verb = a.verb;
    }
    return spec;
  }

  const AuthConfig config_;
  clients::kube::AuthApi* const api_;
  AuthCounters own_counters_;
  AuthCounters* const counters_;
  internal::TtlCache<Decision> cache_;
};

}  // namespace

std::string ForbiddenMessage(const UserInfo& u, const Attributes& a, const std::string& reason) {
  std::string msg;
  if (a.resource_request) {
    std::string gr = a.group.empty() ? a.resource : absl::StrCat(a.resource, ".", a.group);
    std::string res =
        a.subresource.empty() ? a.resource : absl::StrCat(a.resource, "/", a.subresource);
    msg = a.name.empty() ? absl::StrCat(gr, " is forbidden: ")
                         : absl::StrCat(gr, " \"", a.name, "\" is forbidden: ");
    absl::StrAppend(&msg, "User \"", u.name, "\" cannot ", a.verb, " resource \"", res,
                    "\" in API group \"", a.group, "\"");
    if (a.namespace_name.empty()) {
      absl::StrAppend(&msg, " at the cluster scope");
    } else {
      absl::StrAppend(&msg, " in the namespace \"", a.namespace_name, "\"");
    }
  } else {
    msg =
        absl::StrCat("forbidden: User \"", u.name, "\" cannot ", a.verb, " path \"", a.path, "\"");
  }
  if (!reason.empty()) absl::StrAppend(&msg, ": ", reason);
  return msg;
}

absl::StatusOr<std::unique_ptr<Authorizer>> MakeAuthorizer(const AuthConfig& config,
                                                           clients::kube::AuthApi* api,
                                                           const base::Clock* clock,
                                                           AuthCounters* counters) {
  return std::unique_ptr<Authorizer>(new DelegatingAuthorizer(config, api, clock, counters));
}

}  // namespace adapter::auth
