{{/* The release's full name (63 characters at most, as object names and labels allow). */}}
{{- define "stackfleet.fullname" -}}
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

{{- define "stackfleet.selectorLabels" -}}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "stackfleet.labels" -}}
{{ include "stackfleet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "stackfleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "stackfleet.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret and key holding the database URL, or nothing (SQLite in the state volume). */}}
{{- define "stackfleet.databaseSecret" -}}
{{- if .Values.database.existingSecret -}}
{{- .Values.database.existingSecret -}}
{{- else if .Values.database.url -}}
{{- printf "%s-database" (include "stackfleet.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Replicas share a fleet only through PostgreSQL: refuse a render that would split it over SQLite files. */}}
{{- define "stackfleet.validate" -}}
{{- $replicas := int .Values.replicaCount -}}
{{- if lt $replicas 1 -}}
{{- fail (printf "replicaCount must be at least 1 (got %d)" $replicas) -}}
{{- end -}}
{{- if and .Values.database.url (not (regexMatch "^postgres(ql)?://" .Values.database.url)) -}}
{{- fail "database.url must be a postgresql:// URL (leave it empty for SQLite in the state volume)" -}}
{{- end -}}
{{- if and (gt $replicas 1) (not (include "stackfleet.databaseSecret" .)) -}}
{{- fail (printf "replicaCount %d needs a PostgreSQL store shared by the replicas: set database.existingSecret (a Secret whose key %q holds a postgresql:// URL) or database.url" $replicas .Values.database.key) -}}
{{- end -}}
{{- end -}}

{{- define "stackfleet.secretsDir" -}}/var/run/secrets/stackfleet{{- end -}}

{{/* The settings file: the user's settings with what the chart manages set over them. */}}
{{- define "stackfleet.settings" -}}
{{- $settings := deepCopy (.Values.settings | default dict) -}}
{{- $dir := include "stackfleet.secretsDir" . -}}
{{- if .Values.kubeconfig.secretName -}}
{{- $kube := get $settings "kube" | default dict -}}
{{- $_ := set $kube "kubeconfig" (printf "%s/kubeconfig/%s" $dir .Values.kubeconfig.key) -}}
{{- $_ := set $settings "kube" $kube -}}
{{- end -}}
{{- $web := get $settings "web" | default dict -}}
{{- if .Values.webTokens.read.secretName -}}
{{- $_ := set $web "read_token" (dict "file" (printf "%s/read-token/%s" $dir .Values.webTokens.read.key)) -}}
{{- end -}}
{{- if .Values.webTokens.admin.secretName -}}
{{- $_ := set $web "admin_token" (dict "file" (printf "%s/admin-token/%s" $dir .Values.webTokens.admin.key)) -}}
{{- end -}}
{{- if $web -}}
{{- $_ := set $settings "web" $web -}}
{{- end -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- $replicas := dict "enabled" true "namespace" .Release.Namespace "group" (default (include "stackfleet.fullname" .) .Values.replicas.group) "lease_duration" .Values.replicas.leaseDuration -}}
{{- if .Values.replicas.context -}}
{{- $_ := set $replicas "context" .Values.replicas.context -}}
{{- end -}}
{{- $_ := set $settings "replicas" $replicas -}}
{{- end -}}
{{- toYaml $settings -}}
{{- end -}}
