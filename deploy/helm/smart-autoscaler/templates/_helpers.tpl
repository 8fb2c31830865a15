{{/* Name of the chart's objects: fullnameOverride, else the release name when it contains
the chart name, else <release>-<chart>. The default release "smart-autoscaler" gives the
kustomize base's names. */}}
{{- define "smart-autoscaler.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "smart-autoscaler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "smart-autoscaler.labels" -}}
app.kubernetes.io/name: {{ include "smart-autoscaler.name" . }}
app.kubernetes.io/part-of: smart-autoscaler
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "smart-autoscaler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "smart-autoscaler.name" . }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "smart-autoscaler.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" -}}
{{- required "tls.secretName is required when tls.mode is secret" .Values.tls.secretName -}}
{{- else -}}
{{- default (printf "%s-tls" (include "smart-autoscaler.fullname" .)) .Values.tls.secretName -}}
{{- end -}}
{{- end -}}

{{- define "smart-autoscaler.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Service's DNS names: the serving certificate's SANs. */}}
{{- define "smart-autoscaler.dnsNames" -}}
{{- $svc := include "smart-autoscaler.fullname" . -}}
{{- list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) | toJson -}}
{{- end -}}

{{/* Validates tls.mode once, for every template that reads it. */}}
{{- define "smart-autoscaler.checkTlsMode" -}}
{{- if not (has .Values.tls.mode (list "self-signed" "secret" "cert-manager")) -}}
{{- fail (printf "tls.mode %q: want self-signed, secret or cert-manager" .Values.tls.mode) -}}
{{- end -}}
{{- end -}}
