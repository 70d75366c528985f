/**
 * A three-node RabbitMQ cluster on this machine, for trying the daemon against the engine production
 * runs (quorum queues, a node lost): the same cluster the tests start (test/support/rabbitmq-cluster.ts:
 * private node names, ports and data folders, one Erlang cookie, join_cluster). It runs in the
 * foreground and is stopped, its data removed, on Ctrl-C or SIGTERM. The machine's own RabbitMQ is
 * left alone.
 */
import { startRabbitCluster } from '../test/support/rabbitmq-cluster.ts';
import { parseScriptArgs, type Script, wholeNumber } from './script-args.ts';

const SCRIPT: Script = {
  name: 'rabbitmq-cluster',
  usage: `usage: node scripts/rabbitmq-cluster.ts [--nodes N]

Starts a RabbitMQ cluster of private nodes on 127.0.0.1 (their own ports and data folders), prints the
transport_url that lists them and each node's name and port, then waits. Ctrl-C (or SIGTERM) stops
every node and removes its data. Needs Debian's rabbitmq-server (scripts/local-services.sh installs it).

  --nodes N   nodes in the cluster (default 3)
  -h, --help  print this help

Try it: set amqp.url to the printed transport_url, amqp.queueType: quorum, amqp.durable: true, run the
daemon, and stop a node with: rabbitmqctl -n <node> stop_app`,
};

const { values } = parseScriptArgs(SCRIPT, { options: { nodes: { type: 'string', default: '3' } } });
const size = wholeNumber(SCRIPT, 'nodes', values.nodes, 1);

const cluster = await startRabbitCluster(size);
process.stdout.write(`transport_url: ${cluster.transportUrl}\n`);
for (const node of cluster.nodes) process.stdout.write(`  ${node.node}  127.0.0.1:${node.port}\n`);
process.stdout.write('running; Ctrl-C stops every node and removes its data\n');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('stopping the cluster\n');
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Keeps the process alive until a signal: the nodes are not its children.
setInterval(() => {}, 1 << 30);
