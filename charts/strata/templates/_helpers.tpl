{{/* The image of both processes. */}}
{{- define "strata.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "strata.labels" -}}
app.kubernetes.io/name: strata
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* The selector of one component's pods. */}}
{{- define "strata.selector" -}}
app.kubernetes.io/name: strata
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Where a process reaches the API server, when apiServer overrides the in-cluster default. */}}
{{- define "strata.apiServerEnv" -}}
{{- if .Values.apiServer.host }}
# In-cluster configuration reads these; kubelet's values name the kubernetes Service.
- name: KUBERNETES_SERVICE_HOST
  value: {{ .Values.apiServer.host | quote }}
- name: KUBERNETES_SERVICE_PORT
  value: {{ .Values.apiServer.port | quote }}
{{- end }}
{{- end }}

{{/* Environment both processes share: their namespace, how they reach the API server and
     registries. */}}
{{- define "strata.registryEnv" -}}
- name: STRATA_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- include "strata.apiServerEnv" . }}
{{- if .Values.registries.caBundleConfigMap }}
- name: STRATA_CA_BUNDLE
  value: /etc/strata/ca/ca.crt
{{- end }}
{{- if .Values.registries.mirrors }}
- name: STRATA_REGISTRY_MIRRORS
  value: {{ join "," .Values.registries.mirrors | quote }}
{{- end }}
{{- if .Values.registries.insecure }}
- name: STRATA_INSECURE_REGISTRIES
  value: {{ join "," .Values.registries.insecure | quote }}
{{- end }}
{{- if not .Values.fetch.allowLoopback }}
- name: STRATA_DENY_LOOPBACK
  value: "true"
{{- end }}
{{- if .Values.fetch.allowLinkLocal }}
- name: STRATA_ALLOW_LINK_LOCAL
  value: "true"
{{- end }}
{{- end }}

{{/* JVM settings of one process: its options, and glibc kept to two malloc arenas (the default,
     eight per core, costs tens of MiB of RSS in a JVM with many threads for no gain). */}}
{{- define "strata.jvmEnv" -}}
- name: JDK_JAVA_OPTIONS
  value: {{ .javaOptions | quote }}
- name: MALLOC_ARENA_MAX
  value: "2"
{{- end }}
