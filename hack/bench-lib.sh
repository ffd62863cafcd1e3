# Sourced by the hack/bench-*.sh scripts, from the project root, after hack/env.sh.

# The class path in-process benchmarks run on: the operator's test and main classes and every
# test-scope dependency. The classes must be compiled already.
bench_classpath() {
  local cp_file=operator/target/test-classpath.txt
  ./mvnw -B -q -ntp -pl operator dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/$cp_file" >&2
  echo "operator/target/test-classes:operator/target/classes:$(cat "$cp_file")"
}
