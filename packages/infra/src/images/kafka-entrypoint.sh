#!/bin/sh
# Writes server.properties (the settings of packages/infra/src/kafka.ts), formats the log dir on first
# start, then java is PID 1 (SIGTERM: controlled shutdown).
set -eu
dir=/var/lib/kafka
cat > "$dir/log4j2.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders><Console name="stdout" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Root level="info"><AppenderRef ref="stdout"/></Root>
    <Logger name="org.apache.kafka.common.config.AbstractConfig" level="warn"/>
    <Logger name="state.change.logger" level="warn"/>
    <Logger name="kafka.request.logger" level="warn"/>
  </Loggers>
</Configuration>
XML
cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${KAFKA_ADVERTISED_HOST}:${KAFKA_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
${KAFKA_PROPERTIES:-}
PROPS
jvm="$KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Djava.io.tmpdir=$dir -Dlog4j2.configurationFile=$dir/log4j2.xml -Dkafka.logs.dir=$dir"
if [ ! -f "$dir/data/meta.properties" ]; then
  id=${KAFKA_CLUSTER_ID:-$(java -cp '/opt/kafka/libs/*' kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)}
  # shellcheck disable=SC2086
  java $jvm -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format --standalone -t "$id" -c "$dir/server.properties" >/dev/null
fi
# shellcheck disable=SC2086
exec java $jvm -cp '/opt/kafka/libs/*' kafka.Kafka "$dir/server.properties"
