{{/* Names, labels and the pieces every role's pod shares. */}}

{{- define "pulse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pulse.fullname" -}}
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

{{/* A role's object name: <fullname>-<role>, within 63 characters. */}}
{{- define "pulse.roleName" -}}
{{- printf "%s-%s" (include "pulse.fullname" .root | trunc (int (sub 62 (len .role))) | trimSuffix "-") .role -}}
{{- end -}}

{{- define "pulse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "pulse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pulse
{{- end -}}

{{/* Selector labels of one role: dict "root" $ "role" "serve". */}}
{{- define "pulse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pulse.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "pulse.roleLabels" -}}
{{ include "pulse.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "pulse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pulse.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "pulse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Environment from the Secret references (an empty Secret name leaves its variables out). */}}
{{- define "pulse.env" -}}
{{- with .Values.secrets.redis }}{{ if .name }}
- name: PULSE_JOBS_BROKER
  valueFrom: {secretKeyRef: {name: {{ .name | quote }}, key: {{ .key | quote }}}}
{{- end }}{{ end }}
{{- with .Values.secrets.s3 }}{{ if .name }}
- name: PULSE_S3_ACCESS_KEY
  valueFrom: {secretKeyRef: {name: {{ .name | quote }}, key: {{ .accessKeyKey | quote }}}}
- name: PULSE_S3_SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ .name | quote }}, key: {{ .secretKeyKey | quote }}}}
{{- end }}{{ end }}
{{- with .Values.secrets.mlflow }}{{ if .name }}
- name: MLFLOW_TRACKING_URI
  valueFrom: {secretKeyRef: {name: {{ .name | quote }}, key: {{ .trackingUriKey | quote }}}}
- name: MLFLOW_TRACKING_USERNAME
  valueFrom: {secretKeyRef: {name: {{ .name | quote }}, key: {{ .usernameKey | quote }}, optional: true}}
- name: MLFLOW_TRACKING_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .name | quote }}, key: {{ .passwordKey | quote }}, optional: true}}
- name: MLFLOW_TRACKING_TOKEN
  valueFrom: {secretKeyRef: {name: {{ .name | quote }}, key: {{ .tokenKey | quote }}, optional: true}}
{{- end }}{{ end }}
- name: TMPDIR
  value: /tmp
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The pod spec pieces every role shares: dict "root" $ "role" "worker" "spec" .Values.worker. */}}
{{- define "pulse.podCommon" -}}
serviceAccountName: {{ include "pulse.serviceAccountName" .root }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .spec.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .spec.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .spec.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Volumes of every role: the config file and /tmp; serve adds the API tokens. */}}
{{- define "pulse.volumes" -}}
- name: config
  configMap:
    name: {{ include "pulse.roleName" (dict "root" .root "role" "config") }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .root.Values.tmpSizeLimit }}
{{- if and (eq .role "serve") .root.Values.secrets.apiTokens.name }}
- name: api-tokens
  secret:
    secretName: {{ .root.Values.secrets.apiTokens.name }}
    items:
      - key: {{ .root.Values.secrets.apiTokens.key }}
        path: tokens.json
{{- end }}
{{- if eq .role "beat" }}
- name: schedule
  configMap:
    name: {{ include "pulse.roleName" (dict "root" .root "role" "beat") }}
{{- end }}
{{- end -}}

{{- define "pulse.volumeMounts" -}}
- name: config
  mountPath: /etc/pulse/pulse.yaml
  subPath: pulse.yaml
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if and (eq .role "serve") .root.Values.secrets.apiTokens.name }}
- name: api-tokens
  mountPath: /etc/pulse/tokens
  readOnly: true
{{- end }}
{{- if eq .role "beat" }}
- name: schedule
  mountPath: /etc/pulse/beat
  readOnly: true
{{- end }}
{{- end -}}

{{/* Pods restart when the configuration changes. */}}
{{- define "pulse.configChecksum" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- end -}}

{{/* Checks across values that values.schema.json cannot express; included by configmap.yaml. */}}
{{- define "pulse.validate" -}}
{{- range $role := list "serve" "worker" "ingest" }}
{{- $a := (index $.Values $role).autoscaling }}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- fail (printf "%s.autoscaling: minReplicas (%d) is above maxReplicas (%d)" $role (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- end }}
{{- end }}
{{- $grace := int (default 10000 (dig "serve" "shutdown_grace_ms" 10000 .Values.config)) }}
{{- if and .Values.serve.enabled (le (mul (int .Values.serve.terminationGracePeriodSeconds) 1000) $grace) }}
{{- fail (printf "serve.terminationGracePeriodSeconds (%d s) must exceed config.serve.shutdown_grace_ms (%d ms), or the kubelet kills pulse serve while it drains" (int .Values.serve.terminationGracePeriodSeconds) $grace) }}
{{- end }}
{{- if and .Values.worker.enabled .Values.beat.enabled (eq (int .Values.worker.metricsPort) (int .Values.beat.metricsPort)) }}
{{- fail "worker.metricsPort and beat.metricsPort must differ (the NetworkPolicy and ServiceMonitors tell them apart)" }}
{{- end }}
{{- end -}}
