"""tlsscope over a capture archive on Apache Spark.

    spark-submit integrations/spark/tlsscope_spark.py --binary PATH --input GLOB_OR_DIR --output DIR [--policy P]

Map: one task per capture file streams the file's bytes from its Hadoop filesystem into
`tlsscope audit --format ndjson -` (no whole-file copy in memory or on local disk) and yields its records,
its summary line and one status line. Reduce: records are parsed with the Spark schema derived from
record.schema.json and written as Parquet partitioned by date; the summary is computed with Spark SQL and
written as one NDJSON line that `tlsscope report` turns into the text, HTML or SARIF report.

Writes DIR/records/ (Parquet, date=YYYY-MM-DD partitions), DIR/summary.ndjson (one line, the keys of
`tlsscope analyze --summary` plus the `audit` object) and DIR/files.ndjson (one line per input file: path,
exit_status, records, error). A damaged or unreadable file is a line in files.ndjson with its exit status
(3: records before the damage kept; 2: not a capture); the job still finishes. docs/scale-out.md has the
design and the figures.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

from pyspark import SparkFiles
from pyspark.sql import SparkSession, functions as F, types as T

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_FILE = os.path.join(HERE, "record.schema.json")
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".pcap.zst", ".pcapng.zst")
SEVERITIES = ["critical", "high", "medium", "low", "info"]
PROFILES = ["modern", "intermediate", "old"]
BLOCK = 1 << 20
RECORD_PREFIX = '{"type":"tls"'
SUMMARY_PREFIX = '{"type":"summary"'
FILE_PREFIX = '{"type":"file"'


# ---------------------------------------------------------------------------------------------------------
# The record schema: JSON Schema (one place, also for DuckDB/ClickHouse/Elastic users) -> Spark StructType.

def spark_type(node):
    """The Spark type of a JSON Schema node of record.schema.json."""
    kinds = node.get("type")
    if kinds is None:  # const / enum: strings
        return T.StringType()
    kinds = [kinds] if isinstance(kinds, str) else kinds
    kind = next(k for k in kinds if k != "null")
    if kind == "object":
        return T.StructType([T.StructField(name, spark_type(sub), True) for name, sub in node["properties"].items()])
    if kind == "array":
        return T.ArrayType(spark_type(node["items"]), True)
    return {"string": T.StringType(), "integer": T.LongType(), "number": T.DoubleType(),
            "boolean": T.BooleanType()}[kind]


def record_schema():
    with open(SCHEMA_FILE) as handle:
        return spark_type(json.load(handle))


SUMMARY_SCHEMA = T.StructType([
    T.StructField("files", T.LongType()), T.StructField("packets", T.LongType()),
    T.StructField("bytes", T.LongType()), T.StructField("connections", T.LongType()),
    T.StructField("frames_undecodable", T.MapType(T.StringType(), T.LongType())),
    T.StructField("flows", T.MapType(T.StringType(), T.LongType())),
    T.StructField("ip_fragments", T.MapType(T.StringType(), T.LongType())),
    T.StructField("errors", T.ArrayType(T.StringType())),
    T.StructField("elapsed_seconds", T.DoubleType()),
    T.StructField("audit", T.StructType([T.StructField("suppressed", T.MapType(T.StringType(), T.LongType()))])),
])


# ---------------------------------------------------------------------------------------------------------
# Listing the input on the driver, through Hadoop's FileSystem API (file://, hdfs://, s3a://, ...).

def list_captures(spark, pattern):
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(pattern)
    fs = path.getFileSystem(conf)
    statuses = fs.globStatus(path) or []
    found = []
    for status in statuses:
        if status.isDirectory():
            files = fs.listFiles(status.getPath(), True)
            while files.hasNext():
                entry = files.next()
                name = entry.getPath().toString()
                if name.endswith(CAPTURE_SUFFIXES):
                    found.append((name, entry.getLen()))
        else:
            found.append((status.getPath().toString(), status.getLen()))
    return sorted(set(found))


def write_text(spark, target, text):
    """Writes one small file on the output's filesystem (the driver's summaries)."""
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(target)
    out = path.getFileSystem(spark._jsc.hadoopConfiguration()).create(path, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


# ---------------------------------------------------------------------------------------------------------
# The map: on an executor, one capture file streamed through the tlsscope binary.

def open_stream(uri):
    """A binary stream of the file at `uri`, read as it is consumed."""
    if uri.startswith("file:"):
        local = uri[len("file:"):]
        while local.startswith("//"):
            local = local[1:]
        return open(local, "rb")
    if "://" not in uri:
        return open(uri, "rb")
    # Other Hadoop filesystems through Arrow's (pyarrow on the executors; hdfs:// also needs libhdfs).
    from pyarrow import fs as arrowfs  # noqa: PLC0415 - only where such paths are used
    if uri.startswith("s3a://"):
        uri = "s3://" + uri[len("s3a://"):]
    filesystem, path = arrowfs.FileSystem.from_uri(uri)
    return filesystem.open_input_stream(path)


def plan_tasks(captures, parallelism, largest=256 << 20):
    """Groups the files (in name order, so rotated neighbours stay together) into tasks of about equal
    bytes: at least two tasks per core while there are files enough, and a file per task once files are
    large (a task's fixed cost is then nothing beside the file's). Each file is still analyzed on its own."""
    total = sum(size for _, size in captures)
    target = min(largest, max(1, total // max(1, 2 * parallelism)))
    tasks, current, size = [], [], 0
    for path, length in captures:
        current.append((path, length))
        size += length
        if size >= target:
            tasks.append(current)
            current, size = [], 0
    if current:
        tasks.append(current)
    return tasks


def analyze_partition(tasks, binary_name, policy):
    binary = SparkFiles.get(binary_name)
    if not os.access(binary, os.X_OK):
        os.chmod(binary, 0o755)
    for task in tasks:
        for path, _size in task:
            yield from analyze_file(binary, path, policy)


def strip_stdin_name(line):
    """tlsscope's stderr line without its name for standard input (the caller names the file)."""
    for prefix in ("tlsscope: <stdin>: ", "tlsscope: -: ", "tlsscope: "):
        if line.startswith(prefix):
            return line[len(prefix):]
    return line


def analyze_file(binary, path, policy):
    """Yields the NDJSON lines of one capture file — its records (with the file as their `source`), its
    summary, and a `"type": "file"` line with its exit status — and never raises."""
    records = 0
    feed_error = []
    # Records from standard input say "source":"-"; the key is written first in that form (a string value
    # cannot hold it unescaped), so one replace names the file instead.
    source_key = '"source":"-"'
    source_named = '"source":' + json.dumps(path)
    try:
        source = open_stream(path)
    except Exception as error:  # noqa: BLE001 - reported in files.ndjson, the job goes on
        yield json.dumps({"type": "file", "path": path, "exit_status": 2, "records": 0, "error": f"cannot open: {error}"})
        return
    process = subprocess.Popen(
        [binary, "audit", "--policy", policy, "--fail-on", "critical", "--format", "ndjson", "--quiet", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def feed():
        try:
            while True:
                block = source.read(BLOCK)
                if not block:
                    break
                process.stdin.write(block)
        except BrokenPipeError:
            pass  # tlsscope stopped reading (not a capture): its exit status says why
        except Exception as error:  # noqa: BLE001
            feed_error.append(f"read failed: {error}")
        finally:
            try:
                process.stdin.close()
            except OSError:
                pass
            source.close()

    errors = []
    drain = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
    feeder = threading.Thread(target=feed, daemon=True)
    drain.start()
    feeder.start()
    for raw in process.stdout:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if line.startswith(RECORD_PREFIX):
            records += 1
            yield line.replace(source_key, source_named, 1)
        elif line.startswith(SUMMARY_PREFIX):
            yield line
    status = process.wait()
    feeder.join()
    drain.join()
    stderr = b"".join(errors).decode("utf-8", "replace").strip().splitlines()
    # stdin is "-" to tlsscope: name the file instead in what it said.
    message = "; ".join(strip_stdin_name(line) for line in stderr if " at or above " not in line) or None
    if feed_error:
        status, message = max(status, 3), "; ".join(filter(None, [message] + feed_error))
    # audit's exit 1 (findings at or above --fail-on) is not a failure of the file.
    exit_status = 0 if status == 1 else status
    yield json.dumps({"type": "file", "path": path, "exit_status": exit_status, "records": records, "error": message},
                     separators=(",", ":"))


# ---------------------------------------------------------------------------------------------------------
# The reduce: Parquet, and the summary with Spark SQL.

def named_counts(records):
    """The summary's count tables in one Spark job: {"versions": {"TLS 1.3": n, ...}, "cipher_suites": ...}."""
    def pairs(table, column):
        return records.select(F.lit(table).alias("table"), column.alias("name"))
    union = (pairs("versions", F.col("version"))
             .unionByName(pairs("cipher_suites", F.col("cipher_suite")))
             .unionByName(pairs("groups", F.col("group")))
             .unionByName(pairs("alpn", F.col("alpn")))
             .unionByName(pairs("findings", F.explode("findings.severity")))
             .unionByName(pairs("anomalies", F.explode("anomalies.kind")))
             .unionByName(pairs("established", F.when(F.col("established"), F.lit("yes")).otherwise(F.lit("no"))))
             .unionByName(pairs("judged", F.when(F.col("compliance").isNotNull(), F.lit("yes"))))
             .unionByName(pairs("passing", F.explode(F.array(*[
                 F.when(F.col(f"compliance.{p}") == "pass", F.lit(p)) for p in PROFILES])))))
    tables = {name: {} for name in ("versions", "cipher_suites", "groups", "alpn", "findings", "anomalies", "established",
                                    "judged", "passing")}
    for row in union.where(F.col("name").isNotNull()).groupBy("table", "name").count().collect():
        tables[row.table][row.name] = row["count"]
    return tables


def severity_rank(column):
    return (F.when(column == "critical", 4).when(column == "high", 3).when(column == "medium", 2)
            .when(column == "low", 1).otherwise(0))


def tallies(findings, key_columns):
    """Per key (server or client) and finding id: count, worst severity and its message (tlsscope's tally)."""
    ranked = findings.withColumn("rank", severity_rank(F.col("f.severity")))
    grouped = ranked.groupBy(*key_columns, F.col("f.id").alias("id")).agg(
        F.count(F.lit(1)).alias("count"), F.max("rank").alias("rank"),
        F.min_by(F.col("f.message"), F.struct(-F.col("rank"), F.col("order"))).alias("example"))
    return grouped


def summarize(spark, records, summaries, policy):
    records = records.withColumn("order", F.monotonically_increasing_id())
    tables = named_counts(records)
    by_severity = tables["findings"]
    findings = records.select("*", F.explode("findings").alias("f"))
    # The runs' own counts, from their summary lines, in one job: (table, key, value) rows summed.
    def entries(table, column):
        return summaries.select(F.lit(table).alias("table"), F.explode(column).alias("key", "value"))
    run_counts = entries("run", F.create_map(*[x for c in ("files", "packets", "bytes", "connections") for x in (
        F.lit(c), F.col(c).cast("double"))]))
    for table, column in (("flows", "flows"), ("ip_fragments", "ip_fragments"),
                          ("frames_undecodable", "frames_undecodable"), ("suppressed", "audit.suppressed")):
        run_counts = run_counts.unionByName(entries(table, F.col(column).cast("map<string,double>")))
    run_counts = run_counts.unionByName(entries("time", F.create_map(F.lit("elapsed"), F.col("elapsed_seconds"))))
    sums = {name: {} for name in ("run", "flows", "ip_fragments", "frames_undecodable", "suppressed", "time")}
    for row in run_counts.where(F.col("value").isNotNull()).groupBy("table", "key").agg(F.sum("value").alias("sum")).collect():
        sums[row.table][row.key] = row["sum"] if row.table == "time" else int(row["sum"])
    run = sums["run"]

    server_key = ["server_ip", "server_port", "server_name"]
    server_tallies = tallies(findings, server_key).collect()
    servers = {}
    for row in records.groupBy(*server_key).agg(
            F.count(F.lit(1)).alias("connections"),
            *[F.sum((F.col(f"compliance.{p}") == "fail").cast("long")).alias(p) for p in PROFILES],
            F.min(F.struct("source", F.col("frames.first"))).alias("seen")).collect():
        servers[(row.server_ip, row.server_port, row.server_name)] = {
            "server_ip": row.server_ip, "server_port": row.server_port, "server_name": row.server_name,
            "connections": row.connections, "findings": [],
            "failing": {p: row[p] or 0 for p in PROFILES},
            "source": row.seen[0] if row.seen else None, "frame": row.seen[1] if row.seen else None}
    for row in server_tallies:
        servers[(row.server_ip, row.server_port, row.server_name)]["findings"].append(
            {"id": row.id, "severity": SEVERITIES[4 - row.rank], "count": row["count"], "example": row.example})
    clients_frame = records.withColumn("fingerprint", F.coalesce("ja4", "ja3")).where(F.col("fingerprint").isNotNull())
    clients = {row.fingerprint: {"fingerprint": row.fingerprint, "connections": row["count"], "findings": []}
               for row in clients_frame.groupBy("fingerprint").count().collect()}
    client_findings = clients_frame.select("*", F.explode("findings").alias("f"))
    for row in tallies(client_findings, ["fingerprint"]).collect():
        clients[row.fingerprint]["findings"].append(
            {"id": row.id, "severity": SEVERITIES[4 - row.rank], "count": row["count"], "example": row.example})
    judged = tables["judged"].get("yes", 0)
    profiles = {p: {"connections": judged, "connections_passing": tables["passing"].get(p, 0)} for p in PROFILES} \
        if judged else {}
    suppressed = sums["suppressed"]

    return {
        "type": "summary",
        "files": run.get("files", 0),
        "packets": run.get("packets", 0), "bytes": run.get("bytes", 0), "connections": run.get("connections", 0),
        "tls_connections": sum(tables["established"].values()), "established": tables["established"].get("yes", 0),
        "versions": tables["versions"], "cipher_suites": tables["cipher_suites"],
        "groups": tables["groups"], "alpn": tables["alpn"],
        "findings": {s: by_severity[s] for s in SEVERITIES if s in by_severity},
        "anomalies": tables["anomalies"],
        "frames_undecodable": sums["frames_undecodable"],
        "flows": sums["flows"], "ip_fragments": sums["ip_fragments"], "errors": [],
        "elapsed_seconds": round(sums["time"].get("elapsed", 0.0), 3),
        "audit": {"policy": policy, "suppressed": suppressed, "profiles": profiles,
                  "servers": list(servers.values()), "clients": list(clients.values())},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True, help="the tlsscope binary, shipped to the executors")
    parser.add_argument("--input", required=True, help="a glob or directory of pcap/pcapng files, any Hadoop filesystem")
    parser.add_argument("--output", required=True, help="output directory (any Hadoop filesystem)")
    parser.add_argument("--policy", default="intermediate", help="modern, intermediate or old, or a policy file "
                        "(shipped with the binary)")
    args = parser.parse_args(argv)

    spark = SparkSession.builder.appName("tlsscope").getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel(os.environ.get("TLSSCOPE_SPARK_LOG_LEVEL", "WARN"))
    # The aggregates are small (versions, suites, servers): Spark's default of 200 shuffle partitions would
    # make every group-by 200 tasks. Unless the operator chose a number, use twice the cores.
    if not sc.getConf().contains("spark.sql.shuffle.partitions"):
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2, 2 * sc.defaultParallelism)))
    sc.addFile(os.path.abspath(args.binary))
    policy = args.policy
    if os.path.isfile(policy):
        sc.addFile(os.path.abspath(policy))
    binary_name = os.path.basename(args.binary)

    captures = list_captures(spark, args.input)
    if not captures:
        print(f"tlsscope_spark: no capture files under {args.input}", file=sys.stderr)
        return 2
    policy_name = os.path.basename(policy) if os.path.isfile(policy) else policy

    def run(rows):
        chosen = SparkFiles.get(policy_name) if os.path.isfile(policy) else policy
        return analyze_partition(rows, binary_name, chosen)

    # Files are independent (a connection spanning two rotated files is the known limit); small ones share
    # a task.
    tasks = plan_tasks(captures, sc.defaultParallelism)
    # Lines go to the JVM as strings (spark.read.json's path), not as pickled rows: several times faster.
    lines = sc.parallelize(tasks, numSlices=len(tasks)).mapPartitions(run).persist()
    records = (spark.read.schema(record_schema()).json(lines.filter(lambda line: line.startswith(RECORD_PREFIX)))
               .withColumn("date", F.to_date(F.substring("ts", 1, 10))))
    records = records.persist()
    started = time.monotonic()
    records.write.mode("overwrite").partitionBy("date").parquet(args.output.rstrip("/") + "/records")

    phases = [("map and Parquet", time.monotonic() - started)]
    started = time.monotonic()
    summaries = spark.read.schema(SUMMARY_SCHEMA).json(lines.filter(lambda line: line.startswith(SUMMARY_PREFIX)))
    files = sorted((json.loads(line) for line in lines.filter(lambda line: line.startswith(FILE_PREFIX)).collect()),
                   key=lambda entry: entry["path"])
    for entry in files:
        del entry["type"]
    summary = summarize(spark, records.drop("date"), summaries, policy_name)
    summary["errors"] = [f"{entry['path']}: {entry['error']}" for entry in files if entry["error"]]

    phases.append(("summary", time.monotonic() - started))
    write_text(spark, args.output.rstrip("/") + "/summary.ndjson", json.dumps(summary, separators=(",", ":")) + "\n")
    write_text(spark, args.output.rstrip("/") + "/files.ndjson",
               "".join(json.dumps(entry, separators=(",", ":")) + "\n" for entry in files))
    failed = sum(1 for entry in files if entry["exit_status"] != 0)
    print(f"tlsscope_spark: {len(files)} files, {summary['tls_connections']} TLS connections, "
          f"{failed} files with errors; {args.output} ("
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases) + ")", file=sys.stderr)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
