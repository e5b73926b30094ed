# Shared set-up for the scripts in scripts/: find a JDK >= 23, check the tools, build when needed.
# Sourced, not run. Every failure says what is missing and how to get it.

FFM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FFM_MIN_JDK=23

die() { echo "ffm-llama: $*" >&2; exit 1; }

# Prints the feature version (e.g. 25) of the java launcher given, or nothing.
java_feature_version() {
  local v
  v=$("$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version =/ {print $2; exit}')
  case "$v" in 1.*) v=${v#1.}; v=${v%%.*} ;; esac
  echo "$v"
}

# Finds a JDK >= 23: $JAVA_HOME, then the system's JVM directory, then java on PATH.
# Sets JAVA_HOME and JAVA. A JDK here means java + javac (Maven compiles with it).
find_jdk() {
  local candidates=() c best="" bestv=0 v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk*; do [ -d "$c" ] && candidates+=("$c"); done
  if command -v java >/dev/null 2>&1; then
    c=$(readlink -f "$(command -v java)"); candidates+=("$(dirname "$(dirname "$c")")")
  fi
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(java_feature_version "$c/bin/java")
    [ -n "$v" ] && [ "$v" -ge "$FFM_MIN_JDK" ] 2>/dev/null || continue
    # JAVA_HOME wins when it qualifies; otherwise take the newest.
    if [ -n "${JAVA_HOME:-}" ] && [ "$c" = "$JAVA_HOME" ]; then best=$c; bestv=999; break; fi
    if [ "$v" -gt "$bestv" ]; then best=$c; bestv=$v; fi
  done
  [ -n "$best" ] || die "no JDK $FFM_MIN_JDK or newer found (looked at \$JAVA_HOME, /usr/lib/jvm/*, and java on PATH).
Install one (e.g. 'apt-get install openjdk-25-jdk' or a Temurin JDK 25) or set JAVA_HOME to it."
  export JAVA_HOME="$best"
  export PATH="$JAVA_HOME/bin:$PATH"
  JAVA="$JAVA_HOME/bin/java"
}

require_tools() {
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is not installed: 'apt-get install maven'."
  command -v make >/dev/null 2>&1 || die "make is not installed: 'apt-get install make'."
  command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 \
    || die "no C compiler (gcc) found to build native/: 'apt-get install gcc'."
}

FFM_JAR="$FFM_ROOT/target/ffm-llama.jar"

# Builds target/ffm-llama.jar (+ target/lib) when it is missing or older than any source.
build_if_needed() {
  local stale=""
  if [ ! -f "$FFM_JAR" ] || [ ! -d "$FFM_ROOT/target/lib" ]; then
    stale=1
  elif [ -n "$(find "$FFM_ROOT/pom.xml" "$FFM_ROOT/src/main" "$FFM_ROOT/native" "$FFM_ROOT/bindings" \
        -newer "$FFM_JAR" -type f -print -quit 2>/dev/null)" ]; then
    stale=1
  fi
  [ -n "$stale" ] || return 0
  require_tools
  echo "ffm-llama: building (mvn package)..." >&2
  (cd "$FFM_ROOT" && mvn -q -B -DskipTests package) >&2 || die "the build failed (see the Maven output above)."
}

# Maven itself (guava) warns about sun.misc.Unsafe on JDK 24+; that says nothing about us.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"

JVM_FLAGS=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -XX:+UseParallelGC)
