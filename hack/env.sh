# Sourced by the project's scripts: the Java and Go toolchains Strata builds with.
# Strata targets Java 25 (Temurin 25 lies under /usr/lib/jvm on this kind of machine).
if [ -z "${STRATA_JAVA_HOME:-}" ]; then
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk /usr/lib/jvm/java-25-openjdk-amd64; do
    if [ -x "$candidate/bin/java" ]; then STRATA_JAVA_HOME=$candidate; break; fi
  done
fi
if [ -z "${STRATA_JAVA_HOME:-}" ]; then
  echo "strata: no Java 25 found under /usr/lib/jvm; set STRATA_JAVA_HOME to a JDK 25" >&2
  exit 1
fi
export JAVA_HOME=$STRATA_JAVA_HOME
export PATH="$JAVA_HOME/bin:/usr/local/go/bin:$PATH"
export KUBE_API_TEST_DIR=${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}
STRATA_KUBE_VERSION=1.36.3
export STRATA_KUBE_BIN="$KUBE_API_TEST_DIR/k8s/$STRATA_KUBE_VERSION-linux-amd64"

# The JVM options the chart gives COMPONENT (agent or controller): its javaOptions in
# charts/strata/values.yaml, so that local runs and benchmarks run the JVM as a deployment does.
chart_java_options() {
  awk -v c="$1:" '$0 == c {a = 1; next} /^[a-z]/ {a = 0}
    a && /javaOptions:/ {sub(/.*javaOptions: /, ""); gsub(/"/, ""); print}' charts/strata/values.yaml
}
