#include "clients/kube/objects.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/time_format.h"
#include "clients/kube/objects_json.h"
#include "clients/kube/quantity.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace clients::kube {

namespace internal {

std::string GetString(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return "";
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsString()
             ? std::string(it->value.GetString(), it->value.GetStringLength())
             : "";
}

const rapidjson::Value* GetObject(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

namespace {

const rapidjson::Value* GetArray(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

template <typename Int>
std::optional<Int> GetInt(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return std::nullopt;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return static_cast<Int>(it->value.GetInt64());
}

bool GetBool(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return false;
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::map<std::string, std::string> GetStringMap(const rapidjson::Value& obj, const char* key) {
  std::map<std::string, std::string> out;
  const rapidjson::Value* m = GetObject(obj, key);
  if (m == nullptr) return out;
  for (const auto& e : m->GetObject()) {
    if (e.value.IsString()) out[e.name.GetString()] = e.value.GetString();
  }
  return out;
}

std::optional<absl::Time> GetTime(const rapidjson::Value& obj, const char* key) {
  std::string s = GetString(obj, key);
  if (s.empty()) return std::nullopt;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return std::nullopt;
  return t;
}

// Status of condition `type` is "True".
bool ConditionTrue(const rapidjson::Value& status, const char* type) {
  const rapidjson::Value* conds = GetArray(status, "conditions");
  if (conds == nullptr) return false;
  for (const auto& c : conds->GetArray()) {
    if (GetString(c, "type") == type) return GetString(c, "status") == "True";
  }
  return false;
}

absl::Status ParseMeta(const rapidjson::Value& v, const char* kind, ObjectMeta* m) {
  if (!v.IsObject()) return absl::InvalidArgumentError(absl::StrCat(kind, " is not an object"));
  const rapidjson::Value* meta = GetObject(v, "metadata");
  if (meta == nullptr) return absl::InvalidArgumentError(absl::StrCat(kind, " has no metadata"));
  m->name = GetString(*meta, "name");
  if (m->name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kind, " has no metadata.name"));
  }
  m->namespace_name = GetString(*meta, "namespace");
  m->uid = GetString(*meta, "uid");
  m->resource_version = GetString(*meta, "resourceVersion");
  m->generation = GetInt<int64_t>(*meta, "generation").value_or(0);
  m->labels = GetStringMap(*meta, "labels");
  m->annotations = GetStringMap(*meta, "annotations");
  m->creation_timestamp = GetTime(*meta, "creationTimestamp");
  m->deletion_timestamp = GetTime(*meta, "deletionTimestamp");
  if (const rapidjson::Value* refs = GetArray(*meta, "ownerReferences")) {
    for (const auto& r : refs->GetArray()) {
      OwnerReference o;
      o.api_version = GetString(r, "apiVersion");
      o.kind = GetString(r, "kind");
      o.name = GetString(r, "name");
      o.uid = GetString(r, "uid");
      o.controller = GetBool(r, "controller");
      m->owner_references.push_back(std::move(o));
    }
  }
  return absl::OkStatus();
}

std::string Who(const char* kind, const ObjectMeta& m) {
  return m.namespace_name.empty() ? absl::StrCat(kind, " ", m.name)
                                  : absl::StrCat(kind, " ", m.namespace_name, "/", m.name);
}

absl::Status ParseAmounts(const rapidjson::Value& obj, const char* key, const std::string& where,
                          ResourceAmounts* out) {
  const rapidjson::Value* m = GetObject(obj, key);
  if (m == nullptr) return absl::OkStatus();
  for (const char* res : {"cpu", "memory"}) {
    auto it = m->FindMember(res);
    if (it == m->MemberEnd()) continue;
    std::string text;
    if (it->value.IsString()) {
      text = it->value.GetString();
    } else if (it->value.IsNumber()) {  // not what the API server sends, but be lenient
      text = it->value.IsInt64() ? absl::StrCat(it->value.GetInt64())
                                 : absl::StrFormat("%.9g", it->value.GetDouble());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " ", key, ".", res, ": quantity is not a string"));
    }
    bool cpu = res[0] == 'c';
    absl::StatusOr<int64_t> q = cpu ? ParseCpuMillicores(text) : ParseMemoryBytes(text);
    if (!q.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " ", key, ".", res, ": ", q.status().message()));
    }
    (cpu ? out->cpu_millicores : out->memory_bytes) = *q;
  }
  return absl::OkStatus();
}

absl::Status ParseContainers(const rapidjson::Value& pod_spec, const std::string& who,
                             std::vector<ContainerResources>* out) {
  const rapidjson::Value* cs = GetArray(pod_spec, "containers");
  if (cs == nullptr) return absl::OkStatus();
  for (const auto& c : cs->GetArray()) {
    ContainerResources r;
    r.name = GetString(c, "name");
    if (const rapidjson::Value* res = GetObject(c, "resources")) {
      std::string where = absl::StrCat(who, ": container ", r.name);
      if (absl::Status s = ParseAmounts(*res, "requests", where, &r.requests); !s.ok()) return s;
      if (absl::Status s = ParseAmounts(*res, "limits", where, &r.limits); !s.ok()) return s;
    }
    out->push_back(std::move(r));
  }
  return absl::OkStatus();
}

LabelSelector ParseSelector(const rapidjson::Value* sel) {
  LabelSelector out;
  if (sel == nullptr) return out;
  out.match_labels = GetStringMap(*sel, "matchLabels");
  if (const rapidjson::Value* exprs = GetArray(*sel, "matchExpressions")) {
    for (const auto& e : exprs->GetArray()) {
      LabelSelectorRequirement r;
      r.key = GetString(e, "key");
      r.op = GetString(e, "operator");
      if (const rapidjson::Value* vs = GetArray(e, "values")) {
        for (const auto& x : vs->GetArray()) {
          if (x.IsString()) r.values.push_back(x.GetString());
        }
      }
      out.match_expressions.push_back(std::move(r));
    }
  }
  return out;
}

int64_t SumCpu(const std::vector<ContainerResources>& cs) {
  int64_t total = 0;
  for (const auto& c : cs) total += c.requests.cpu_millicores.value_or(0);
  return total;
}

const rapidjson::Value& Empty() {
  static const rapidjson::Value* empty = new rapidjson::Value(rapidjson::kObjectType);
  return *empty;
}

const rapidjson::Value& Sub(const rapidjson::Value& v, const char* key) {
  const rapidjson::Value* o = GetObject(v, key);
  return o != nullptr ? *o : Empty();
}

// A quantity field in thousandths; bad text -> error naming the field.
absl::Status QuantityField(const rapidjson::Value& obj, const char* key, const std::string& where,
                           std::optional<int64_t>* out) {
  std::string text = GetString(obj, key);
  if (text.empty()) return absl::OkStatus();
  absl::StatusOr<int64_t> q = ParseQuantityScaled(text, 3);
  if (!q.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " ", key, ": ", q.status().message()));
  }
  *out = *q;
  return absl::OkStatus();
}

}  // namespace

absl::Status FromJson(const rapidjson::Value& v, Deployment* out) {
  if (absl::Status s = ParseMeta(v, "Deployment", &out->metadata); !s.ok()) return s;
  const rapidjson::Value& spec = Sub(v, "spec");
  out->replicas = GetInt<int32_t>(spec, "replicas").value_or(1);
  out->selector = ParseSelector(GetObject(spec, "selector"));
  const rapidjson::Value& pod_spec = Sub(Sub(spec, "template"), "spec");
  out->node_selector = GetStringMap(pod_spec, "nodeSelector");
  if (absl::Status s =
          ParseContainers(pod_spec, Who("Deployment", out->metadata), &out->containers);
      !s.ok()) {
    return s;
  }
  const rapidjson::Value& status = Sub(v, "status");
  out->status_replicas = GetInt<int32_t>(status, "replicas").value_or(0);
  out->ready_replicas = GetInt<int32_t>(status, "readyReplicas").value_or(0);
  out->available_replicas = GetInt<int32_t>(status, "availableReplicas").value_or(0);
  return absl::OkStatus();
}

absl::Status FromJson(const rapidjson::Value& v, ReplicaSet* out) {
  if (absl::Status s = ParseMeta(v, "ReplicaSet", &out->metadata); !s.ok()) return s;
  const rapidjson::Value& spec = Sub(v, "spec");
  out->replicas = GetInt<int32_t>(spec, "replicas").value_or(1);
  out->selector = ParseSelector(GetObject(spec, "selector"));
  out->ready_replicas = GetInt<int32_t>(Sub(v, "status"), "readyReplicas").value_or(0);
  return absl::OkStatus();
}

absl::Status FromJson(const rapidjson::Value& v, Pod* out) {
  if (absl::Status s = ParseMeta(v, "Pod", &out->metadata); !s.ok()) return s;
  const rapidjson::Value& spec = Sub(v, "spec");
  out->node_name = GetString(spec, "nodeName");
  if (absl::Status s = ParseContainers(spec, Who("Pod", out->metadata), &out->containers);
      !s.ok()) {
    return s;
  }
  const rapidjson::Value& status = Sub(v, "status");
  out->phase = GetString(status, "phase");
  out->ready = ConditionTrue(status, "Ready");
  out->start_time = GetTime(status, "startTime");
  return absl::OkStatus();
}

absl::Status FromJson(const rapidjson::Value& v, Node* out) {
  if (absl::Status s = ParseMeta(v, "Node", &out->metadata); !s.ok()) return s;
  out->unschedulable = GetBool(Sub(v, "spec"), "unschedulable");
  const rapidjson::Value& status = Sub(v, "status");
  std::string who = Who("Node", out->metadata);
  if (absl::Status s = ParseAmounts(status, "allocatable", who, &out->allocatable); !s.ok()) {
    return s;
  }
  if (absl::Status s = ParseAmounts(status, "capacity", who, &out->capacity); !s.ok()) return s;
  out->ready = ConditionTrue(status, "Ready");
  return absl::OkStatus();
}

absl::Status FromJson(const rapidjson::Value& v, HorizontalPodAutoscaler* out) {
  if (absl::Status s = ParseMeta(v, "HorizontalPodAutoscaler", &out->metadata); !s.ok()) return s;
  std::string who = Who("HorizontalPodAutoscaler", out->metadata);
  const rapidjson::Value& spec = Sub(v, "spec");
  const rapidjson::Value& ref = Sub(spec, "scaleTargetRef");
  out->scale_target_ref = {GetString(ref, "apiVersion"), GetString(ref, "kind"),
                           GetString(ref, "name")};
  out->min_replicas = GetInt<int32_t>(spec, "minReplicas").value_or(1);
  out->max_replicas = GetInt<int32_t>(spec, "maxReplicas").value_or(0);
  if (const rapidjson::Value* ms = GetArray(spec, "metrics")) {
    for (const auto& m : ms->GetArray()) {
      HpaMetric h;
      h.type = GetString(m, "type");
      const rapidjson::Value* source = nullptr;
      if (h.type == "Resource") source = GetObject(m, "resource");
      if (h.type == "ContainerResource") source = GetObject(m, "containerResource");
      if (h.type == "External") source = GetObject(m, "external");
      if (h.type == "Object") source = GetObject(m, "object");
      if (h.type == "Pods") source = GetObject(m, "pods");
      if (source != nullptr) {
        if (h.type == "Resource" || h.type == "ContainerResource") {
          h.name = GetString(*source, "name");
          h.container = GetString(*source, "container");
        } else {
          const rapidjson::Value& metric = Sub(*source, "metric");
          h.name = GetString(metric, "name");
          h.selector = ParseSelector(GetObject(metric, "selector"));
        }
        if (h.type == "Object") {
          const rapidjson::Value& d = Sub(*source, "describedObject");
          h.described_object = {GetString(d, "apiVersion"), GetString(d, "kind"),
                                GetString(d, "name")};
        }
        const rapidjson::Value& t = Sub(*source, "target");
        h.target.type = GetString(t, "type");
        std::string where = absl::StrCat(who, ": metric ", h.name, " target");
        if (absl::Status s = QuantityField(t, "value", where, &h.target.value_milli); !s.ok()) {
          return s;
        }
        if (absl::Status s = QuantityField(t, "averageValue", where, &h.target.average_value_milli);
            !s.ok()) {
          return s;
        }
        h.target.average_utilization = GetInt<int32_t>(t, "averageUtilization");
      }
      out->metrics.push_back(std::move(h));
    }
  }
  const rapidjson::Value& status = Sub(v, "status");
  out->current_replicas = GetInt<int32_t>(status, "currentReplicas").value_or(0);
  out->desired_replicas = GetInt<int32_t>(status, "desiredReplicas").value_or(0);
  return absl::OkStatus();
}

absl::Status FromJson(const rapidjson::Value& v, Lease* out) {
  if (absl::Status s = ParseMeta(v, "Lease", &out->metadata); !s.ok()) return s;
  const rapidjson::Value& spec = Sub(v, "spec");
  out->holder_identity = GetString(spec, "holderIdentity");
  out->lease_duration_seconds = GetInt<int32_t>(spec, "leaseDurationSeconds");
  out->acquire_time = GetTime(spec, "acquireTime");
  out->renew_time = GetTime(spec, "renewTime");
  out->lease_transitions = GetInt<int32_t>(spec, "leaseTransitions").value_or(0);
  return absl::OkStatus();
}

}  // namespace internal

namespace {

template <typename T>
absl::StatusOr<T> ParseText(absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON ", ResourceInfoFor<T>().kind, " object"));
  }
  T out;
  if (absl::Status s = internal::FromJson(doc, &out); !s.ok()) return s;
  return out;
}

bool HasValue(const std::vector<std::string>& vs, const std::string& v) {
  for (const auto& x : vs) {
    if (x == v) return true;
  }
  return false;
}

}  // namespace

const OwnerReference* ObjectMeta::ControllerOf(absl::string_view kind) const {
  for (const auto& r : owner_references) {
    if (r.controller && r.kind == kind) return &r;
  }
  return nullptr;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& e : match_expressions) {
    auto it = labels.find(e.key);
    bool has = it != labels.end();
    if (e.op == "In") {
      if (!has || !HasValue(e.values, it->second)) return false;
    } else if (e.op == "NotIn") {
      if (has && HasValue(e.values, it->second)) return false;
    } else if (e.op == "Exists") {
      if (!has) return false;
    } else if (e.op == "DoesNotExist") {
      if (has) return false;
    } else {
      return false;
    }
  }
  return true;
}

int64_t Deployment::TotalCpuRequestMillicores() const { return internal::SumCpu(containers); }
int64_t Pod::TotalCpuRequestMillicores() const { return internal::SumCpu(containers); }

std::string ReplicaSet::OwnerDeployment() const {
  const OwnerReference* r = metadata.ControllerOf("Deployment");
  return r != nullptr ? r->name : "";
}

std::string Pod::OwnerReplicaSet() const {
  const OwnerReference* r = metadata.ControllerOf("ReplicaSet");
  return r != nullptr ? r->name : "";
}

absl::StatusOr<Deployment> ParseDeploymentJson(absl::string_view json) {
  return ParseText<Deployment>(json);
}
absl::StatusOr<ReplicaSet> ParseReplicaSetJson(absl::string_view json) {
  return ParseText<ReplicaSet>(json);
}
absl::StatusOr<Pod> ParsePodJson(absl::string_view json) { return ParseText<Pod>(json); }
absl::StatusOr<Node> ParseNodeJson(absl::string_view json) { return ParseText<Node>(json); }
absl::StatusOr<HorizontalPodAutoscaler> ParseHorizontalPodAutoscalerJson(absl::string_view json) {
  return ParseText<HorizontalPodAutoscaler>(json);
}
absl::StatusOr<Lease> ParseLeaseJson(absl::string_view json) { return ParseText<Lease>(json); }

namespace {
template <typename T>
absl::Status AppendItem(const rapidjson::Value& item, size_t index, std::vector<T>* out) {
  T obj;
  absl::Status s = internal::FromJson(item, &obj);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("items[", index, "]: ", s.message()));
  out->push_back(std::move(obj));
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<ObjectList> ParseObjectListJson(absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("items") ||
      !doc["items"].IsArray()) {
    return absl::InvalidArgumentError("not a JSON List object with an \"items\" array");
  }
  ObjectList out;
  const auto& items = doc["items"];
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    const rapidjson::Value& item = items[i];
    if (!item.IsObject()) return absl::InvalidArgumentError(absl::StrCat("items[", i, "]: not an object"));
    std::string kind = internal::GetString(item, "kind");
    absl::Status s;
    if (kind == "Deployment") {
      s = AppendItem(item, i, &out.deployments);
    } else if (kind == "ReplicaSet") {
      s = AppendItem(item, i, &out.replica_sets);
    } else if (kind == "Pod") {
      s = AppendItem(item, i, &out.pods);
    } else if (kind == "Node") {
      s = AppendItem(item, i, &out.nodes);
    } else if (kind == "HorizontalPodAutoscaler") {
      s = AppendItem(item, i, &out.hpas);
    } else {
      ++out.skipped;
    }
    if (!s.ok()) return s;
  }
  return out;
}

std::string LeaseToJson(const Lease& lease) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const std::string& s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  auto micro_time = [&](absl::Time t) {
    str(base::FormatRfc3339Micros(t));
  };
  w.StartObject();
  w.Key("apiVersion");
  w.String("coordination.k8s.io/v1");
  w.Key("kind");
  w.String("Lease");
  w.Key("metadata");
  w.StartObject();
  w.Key("name");
  str(lease.metadata.name);
  if (!lease.metadata.namespace_name.empty()) {
    w.Key("namespace");
    str(lease.metadata.namespace_name);
  }
  if (!lease.metadata.resource_version.empty()) {
    w.Key("resourceVersion");
    str(lease.metadata.resource_version);
  }
  if (!lease.metadata.labels.empty()) {
    w.Key("labels");
    w.StartObject();
    for (const auto& [k, v] : lease.metadata.labels) {
      str(k);
      str(v);
    }
    w.EndObject();
  }
  w.EndObject();
  w.Key("spec");
  w.StartObject();
  if (!lease.holder_identity.empty()) {
    w.Key("holderIdentity");
    str(lease.holder_identity);
  }
  if (lease.lease_duration_seconds) {
    w.Key("leaseDurationSeconds");
    w.Int(*lease.lease_duration_seconds);
  }
  if (lease.acquire_time) {
    w.Key("acquireTime");
    micro_time(*lease.acquire_time);
  }
  if (lease.renew_time) {
    w.Key("renewTime");
    micro_time(*lease.renew_time);
  }
  w.Key("leaseTransitions");
  w.Int(lease.lease_transitions);
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

template <>
const ResourceInfo& ResourceInfoFor<Deployment>() {
  static const ResourceInfo info{"/apis/apps/v1", "deployments", "Deployment", true};
  return info;
}
template <>
const ResourceInfo& ResourceInfoFor<ReplicaSet>() {
  static const ResourceInfo info{"/apis/apps/v1", "replicasets", "ReplicaSet", true};
  return info;
}
template <>
const ResourceInfo& ResourceInfoFor<Pod>() {
  static const ResourceInfo info{"/api/v1", "pods", "Pod", true};
  return info;
}
template <>
const ResourceInfo& ResourceInfoFor<Node>() {
  static const ResourceInfo info{"/api/v1", "nodes", "Node", false};
  return info;
}
template <>
const ResourceInfo& ResourceInfoFor<HorizontalPodAutoscaler>() {
  static const ResourceInfo info{"/apis/autoscaling/v2", "horizontalpodautoscalers",
                                 "HorizontalPodAutoscaler", true};
  return info;
}
template <>
const ResourceInfo& ResourceInfoFor<Lease>() {
  static const ResourceInfo info{"/apis/coordination.k8s.io/v1", "leases", "Lease", true};
  return info;
}

}  // namespace clients::kube
