// Reference answers from @openzeppelin/merkle-tree for tests/unit/records/test_merkle.py.
// stdin: {"values": [[path, value, salt], ...], "pick": [indexes]}; stdout: root, proofs, multiproof.
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const cases = JSON.parse(input);
  const out = cases.map(({ values, pick }) => {
    const tree = StandardMerkleTree.of(values, ["string", "string", "bytes32"]);
    const multi = tree.getMultiProof(pick);
    return {
      root: tree.root,
      proofs: values.map((_, i) => tree.getProof(i)),
      multi: { leaves: multi.leaves.map((v) => tree.leafHash(v)), proof: multi.proof, flags: multi.proofFlags },
    };
  });
  process.stdout.write(JSON.stringify(out));
});
