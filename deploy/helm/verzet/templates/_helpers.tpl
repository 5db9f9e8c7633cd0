{{/* Names, labels and the pod template shared by every kind. */}}

{{/* The chart's name: nameOverride or "verzet". */}}
{{- define "verzet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The name of every resource: release-verzet, or the release name when it already says verzet. */}}
{{- define "verzet.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The headless Service a StatefulSet's pods get their names from. */}}
{{- define "verzet.headlessName" -}}
{{- printf "%s-pods" (include "verzet.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The migration Job. */}}
{{- define "verzet.migrateName" -}}
{{- printf "%s-migrate" (include "verzet.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "verzet.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of everything the chart makes. */}}
{{- define "verzet.commonLabels" -}}
helm.sh/chart: {{ include "verzet.chart" . }}
app.kubernetes.io/name: {{ include "verzet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the server pods (not the migration's): never change
them on upgrade. */}}
{{- define "verzet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "verzet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels of the server's resources. */}}
{{- define "verzet.labels" -}}
{{ include "verzet.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "verzet.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Whether the migration runs as a hook Job (and the pods skip it). */}}
{{- define "verzet.migrateJob" -}}
{{- if and .Values.migrate.enabled .Values.database.existingSecret }}true{{ end }}
{{- end }}

{{/* Refuses values that would deploy something broken. */}}
{{- define "verzet.validate" -}}
{{- if not (has .Values.workload (list "Deployment" "StatefulSet")) }}
{{- fail (printf "workload must be Deployment or StatefulSet, not %q" .Values.workload) }}
{{- end }}
{{- if and (not .Values.database.existingSecret) (gt (int .Values.replicaCount) 1) }}
{{- fail "several replicas need PostgreSQL: set database.existingSecret, or replicaCount 1 for the embedded store" }}
{{- end }}
{{- if and .Values.persistence.enabled (ne .Values.workload "StatefulSet") }}
{{- fail "persistence.enabled needs workload: StatefulSet (a claim per pod)" }}
{{- end }}
{{- $managed := list "VERZET_HTTP_ADDR" "VERZET_DATA_DIR" "VERZET_LOG_FORMAT" "VERZET_ARI_URL" "VERZET_ARI_USER" "VERZET_ARI_APP" "VERZET_ARI_MEDIA_URL" }}
{{- $secret := list "VERZET_DATABASE_URL" "VERZET_TWILIO_AUTH_TOKEN" "VERZET_TWILIO_API_KEY" "VERZET_TWILIO_API_SECRET" "VERZET_ARI_PASSWORD" "VERZET_WEBHOOK_SECRET" }}
{{- range $k, $v := .Values.env }}
{{- if not (hasPrefix "VERZET_" $k) }}
{{- fail (printf "env.%s: only VERZET_* settings go here" $k) }}
{{- end }}
{{- if has $k $secret }}
{{- fail (printf "env.%s holds a secret: reference an existing Secret under database or secrets instead" $k) }}
{{- end }}
{{- if has $k $managed }}
{{- fail (printf "env.%s is set by the chart (see ari and the pod template)" $k) }}
{{- end }}
{{- end }}
{{- end }}

{{/* A variable from a key of an existing Secret. */}}
{{- define "verzet.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .ref.name }}
      key: {{ .ref.key }}
{{- end }}

{{/* The database URL, for the pods and the migration Job. */}}
{{- define "verzet.databaseEnv" -}}
{{- if .Values.database.existingSecret -}}
{{ include "verzet.secretEnv" (dict "env" "VERZET_DATABASE_URL" "ref" (dict "name" .Values.database.existingSecret "key" .Values.database.key)) }}
{{- end }}
{{- end }}

{{/* The verzet container's environment. */}}
{{- define "verzet.env" -}}
- name: VERZET_HTTP_ADDR
  value: ":8080"
- name: VERZET_DATA_DIR
  value: /data
- name: VERZET_LOG_FORMAT
  value: json
{{- with include "verzet.databaseEnv" . }}
{{ . }}
{{- end }}
{{- with .Values.secrets.twilioAuthToken }}{{ if .name }}
{{ include "verzet.secretEnv" (dict "env" "VERZET_TWILIO_AUTH_TOKEN" "ref" .) }}
{{- end }}{{ end }}
{{- with .Values.secrets.webhookSecret }}{{ if .name }}
{{ include "verzet.secretEnv" (dict "env" "VERZET_WEBHOOK_SECRET" "ref" .) }}
{{- end }}{{ end }}
{{- if .Values.ari.url }}
- name: VERZET_ARI_URL
  value: {{ .Values.ari.url | quote }}
- name: VERZET_ARI_USER
  value: {{ .Values.ari.user | quote }}
{{- with .Values.secrets.ariPassword }}{{ if .name }}
{{ include "verzet.secretEnv" (dict "env" "VERZET_ARI_PASSWORD" "ref" .) }}
{{- end }}{{ end }}
# Every pod its own Stasis application: a second websocket with the same
# name would take every call from the first.
- name: VERZET_ARI_APP
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- with .Values.ari.mediaURL }}
- name: VERZET_ARI_MEDIA_URL
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- range $k, $v := .Values.env }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/* The pod template of the Deployment or StatefulSet. */}}
{{- define "verzet.podTemplate" -}}
metadata:
  labels:
    {{- include "verzet.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with .Values.serviceAccountName }}
  serviceAccountName: {{ . }}
  {{- end }}
  automountServiceAccountToken: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  containers:
    - name: verzet
      image: {{ include "verzet.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - serve
        {{- if include "verzet.migrateJob" . }}
        - --no-migrate
        {{- end }}
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      env:
        {{- include "verzet.env" . | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
        failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
        timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
        failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
        timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: data
          mountPath: /data
        - name: tmp
          mountPath: /tmp
  volumes:
    {{- if not .Values.persistence.enabled }}
    - name: data
      emptyDir:
        sizeLimit: {{ .Values.dataSizeLimit }}
    {{- end }}
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  topologySpreadConstraints:
    {{- if .Values.topologySpreadConstraints }}
    {{- toYaml .Values.topologySpreadConstraints | nindent 4 }}
    {{- else }}
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "verzet.selectorLabels" . | nindent 10 }}
    {{- end }}
{{- end }}
