// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsortium} from "./IConsortium.sol";

/// @title IMineralPassport
/// @notice Vocabulary of the batch registry: each physical batch of tungsten material is an
///         ERC-721 token with a packed record (stage, mass, grade, production facility, custody,
///         flags, lineage). Contained tungsten (mass x grade) is conserved by splits and may only
///         shrink through processing, up to an assay tolerance.
interface IMineralPassport {
    /// @notice Form of the material. Processing must move to a later stage (see `stageRank`);
    ///         SCRAP may enter or leave any step (recycling).
    enum Stage {
        ORE,
        CONCENTRATE,
        APT,
        OXIDE,
        POWDER,
        CARBIDE,
        WF6,
        SCRAP
    }

    /// @notice Full view of a batch, assembled from its packed storage.
    struct Batch {
        address owner;
        Stage stage;
        uint8 flags;
        uint24 gradePpm;
        uint32 facilityId;
        bytes2 country;
        address custodian;
        uint64 massGrams;
        uint32 parentRef;
        bytes32 contentHash;
    }

    /// @notice One output of a processing step.
    struct ProcessOutput {
        uint8 stage;
        uint64 massGrams;
        uint24 gradePpm;
        bytes32 contentHash;
    }

    /// @notice A pending handover. `custodyOnly` hands over physical custody and keeps the title.
    struct Offer {
        address to;
        bool custodyOnly;
        uint40 offeredAt;
    }

    /// @notice Emitted when a mine (or recycler) records a new batch.
    event BatchMinted(
        uint256 indexed batchId,
        address indexed owner,
        uint32 indexed facilityId,
        Stage stage,
        uint64 massGrams,
        uint24 gradePpm,
        bytes2 country,
        bytes32 contentHash
    );
    /// @notice Emitted when a holder offers a batch (or only its custody) to a receiver.
    event CustodyOffered(uint256 indexed batchId, address indexed from, address indexed to, bool custodyOnly);
    /// @notice Emitted when a pending offer is withdrawn.
    event CustodyOfferCancelled(uint256 indexed batchId, address indexed by, address indexed to);
    /// @notice Emitted when the receiver accepts an offer, with the mass it measured.
    event CustodyAccepted(uint256 indexed batchId, address indexed to, address from, bool custodyOnly, uint64 measuredGrams);
    /// @notice Emitted when a measured mass differs from the recorded one beyond tolerance.
    event CustodyDiscrepancyRecorded(
        uint256 indexed batchId, address indexed receiver, uint64 recordedGrams, uint64 measuredGrams
    );
    /// @notice Emitted when a batch is split; children ids run from `firstChildId` in `masses` order.
    event BatchSplit(uint256 indexed batchId, address indexed owner, uint256 firstChildId, uint64[] masses);
    /// @notice Emitted for each processing step (an EPCIS TransformationEvent: inputs, outputs, quantities).
    event BatchesProcessed(
        uint32 indexed processId,
        uint32 indexed facilityId,
        address indexed processor,
        uint256[] inputIds,
        uint64[] inputMasses,
        uint256[] outputIds,
        uint64[] outputMasses
    );
    /// @notice Emitted for each output of a processing step.
    event BatchProduced(
        uint256 indexed batchId,
        uint32 indexed processId,
        Stage stage,
        uint64 massGrams,
        uint24 gradePpm,
        bool tainted,
        bytes32 contentHash
    );
    /// @notice Emitted when a batch's holder appends a document root.
    event BatchDocumentsAdded(uint256 indexed batchId, address indexed holder, bytes32 documentRoot);
    /// @notice Emitted when a regulator freezes a batch.
    event BatchFrozen(uint256 indexed batchId, address indexed regulator, bytes32 reason);
    /// @notice Emitted when a regulator lifts a freeze.
    event BatchUnfrozen(uint256 indexed batchId, address indexed regulator);
    /// @notice Emitted when a regulator taints a batch.
    event BatchTainted(uint256 indexed batchId, address indexed regulator, bytes32 reason);

    /// @notice Thrown when a batch id does not exist.
    error BatchNotFound(uint256 batchId);
    /// @notice Thrown when a document root is zero.
    error BatchEmptyDocumentRoot(uint256 batchId);
    /// @notice Thrown when the caller does not hold the batch's title.
    error BatchNotHolder(uint256 batchId, address caller);
    /// @notice Thrown when the caller neither holds the title nor has physical custody.
    error BatchNotCustodian(uint256 batchId, address caller);
    /// @notice Thrown when a batch was split or processed and can no longer change.
    error BatchIsConsumed(uint256 batchId);
    /// @notice Thrown when a batch is frozen by a regulator.
    error BatchIsFrozen(uint256 batchId);
    /// @notice Thrown when a tainted batch would move.
    error BatchIsTainted(uint256 batchId);
    /// @notice Thrown when a batch is not frozen.
    error BatchNotFrozen(uint256 batchId);
    /// @notice Thrown when a stage value is outside the Stage enum.
    error BatchInvalidStage(uint8 stage);
    /// @notice Thrown when a stage cannot be minted at that facility.
    error BatchMintNotAllowed(uint8 stage, IConsortium.FacilityKind facilityKind);
    /// @notice Thrown when a mass is zero.
    error BatchZeroMass();
    /// @notice Thrown when a grade is zero or above 1,000,000 ppm.
    error BatchInvalidGrade(uint24 gradePpm);
    /// @notice Thrown when a receiver is the zero address or already holds the batch.
    error BatchInvalidReceiver(address receiver);
    /// @notice Thrown when a batch already has a pending offer.
    error BatchOfferPending(uint256 batchId, address to);
    /// @notice Thrown when a batch has no pending offer.
    error BatchNoOffer(uint256 batchId);
    /// @notice Thrown when someone other than the offeree accepts.
    error BatchNotOfferee(uint256 batchId, address caller, address offeree);
    /// @notice Thrown when a split has fewer than two or more than MAX_CHILDREN parts.
    error BatchSplitCount(uint256 count);
    /// @notice Thrown when split masses do not add up to the parent's mass.
    error BatchSplitMassMismatch(uint256 batchId, uint256 parentGrams, uint256 childrenGrams);
    /// @notice Thrown when a processing step has no inputs, no outputs, or too many.
    error BatchProcessCount(uint256 inputs, uint256 outputs);
    /// @notice Thrown when processing inputs are not in strictly ascending id order (catches duplicates).
    error BatchInputsNotAscending(uint256 index);
    /// @notice Thrown when an output stage does not come after an input stage.
    error BatchStageOrder(uint256 inputId, Stage inputStage, Stage outputStage);
    /// @notice Thrown when outputs contain more tungsten than inputs allow.
    error BatchMassBalanceExceeded(uint256 inputContained, uint256 outputContained, uint256 allowed);
    /// @notice Thrown when batch ids (uint32) are used up.
    error BatchIdSpaceExhausted();
    /// @notice Thrown when the consortium address holds no contract.
    error BatchInvalidConsortium(address consortium);
    /// @notice Thrown when a tolerance exceeds 100 %.
    error BatchInvalidTolerance(uint16 bps);

    /// @notice Records a new batch produced at a facility the caller operates.
    /// @dev ORE or CONCENTRATE by a MINER at a MINE or CONCENTRATOR; SCRAP by a PROCESSOR at a RECYCLER.
    /// @param facilityId Where the batch was produced.
    /// @param stage A Stage value.
    /// @param massGrams Net mass in grams.
    /// @param gradePpm Tungsten grade in ppm of W (1..1,000,000).
    /// @param contentHash Hash of the off-chain record (documents, assay, telemetry root).
    /// @return batchId The new batch id.
    function mint(uint32 facilityId, uint8 stage, uint64 massGrams, uint24 gradePpm, bytes32 contentHash)
        external
        returns (uint256 batchId);

    /// @notice Offers the batch (title and custody) to a member; the title holder calls.
    /// @param batchId The batch.
    /// @param to The receiver, who must `accept`.
    function offer(uint256 batchId, address to) external;

    /// @notice Offers only physical custody (e.g. to a carrier); the title holder or custodian calls.
    /// @param batchId The batch.
    /// @param to The new custodian, who must `accept`.
    function offerCustody(uint256 batchId, address to) external;

    /// @notice Withdraws a pending offer; the title holder, the custodian or the offeree calls.
    /// @param batchId The batch.
    function cancelOffer(uint256 batchId) external;

    /// @notice Accepts a pending offer with the mass measured at receipt.
    /// @param batchId The batch.
    /// @param measuredGrams Mass measured by the receiver; outside tolerance it is recorded as a discrepancy.
    function accept(uint256 batchId, uint64 measuredGrams) external;

    /// @notice Splits a batch into children that together hold exactly its mass; the parent is consumed.
    /// @param batchId The batch; the caller must hold its title.
    /// @param masses Children masses in grams (2..MAX_CHILDREN parts).
    /// @return firstChildId Id of the first child; the others follow consecutively.
    function split(uint256 batchId, uint64[] calldata masses) external returns (uint256 firstChildId);

    /// @notice Turns input batches into outputs at a facility the caller (a PROCESSOR) operates.
    /// @param inputIds Inputs in strictly ascending order; the caller holds title and custody of each.
    /// @param facilityId The processing facility.
    /// @param outputs The products; their contained tungsten may not exceed the inputs' plus tolerance.
    /// @return firstOutputId Id of the first output; the others follow consecutively.
    function process(uint256[] calldata inputIds, uint32 facilityId, ProcessOutput[] calldata outputs)
        external
        returns (uint256 firstOutputId);

    /// @notice Freezes a batch (REGULATOR).
    /// @param batchId The batch.
    /// @param reason Hash of the regulator's reasoning document.
    function freeze(uint256 batchId, bytes32 reason) external;

    /// @notice Lifts a freeze (REGULATOR).
    /// @param batchId The batch.
    function unfreeze(uint256 batchId) external;

    /// @notice Marks a batch as tainted (REGULATOR); its future products inherit the taint.
    /// @param batchId The batch.
    /// @param reason Hash of the regulator's reasoning document.
    function taint(uint256 batchId, bytes32 reason) external;

    /// @notice The batch's full record.
    /// @param batchId The batch.
    /// @return record The record.
    function batch(uint256 batchId) external view returns (Batch memory record);

    /// @notice The batch's direct parents (one for a split child, the inputs for a processed output).
    /// @param batchId The batch.
    /// @return parents Parent batch ids; empty for minted batches.
    function parentsOf(uint256 batchId) external view returns (uint256[] memory parents);

    /// @notice The inputs of a processing step.
    /// @param processId The step.
    /// @return inputIds Its input batch ids.
    function processInputs(uint32 processId) external view returns (uint256[] memory inputIds);

    /// @notice The batch's pending offer, zeroed when there is none.
    /// @param batchId The batch.
    /// @return pending The offer.
    function offerOf(uint256 batchId) external view returns (Offer memory pending);

    /// @notice Whether the batch is tainted: flagged by a regulator, made from tainted inputs,
    ///         or produced at a facility whose site or operator is now sanctioned.
    /// @param batchId The batch.
    /// @return tainted True when tainted.
    function isTainted(uint256 batchId) external view returns (bool tainted);

    /// @notice Appends a document root to a batch's append-only log (an event; nothing is stored):
    ///         the Merkle root of a salted record of the batch's documents (assay certificate,
    ///         export licence, audit reports, telemetry root). Only the holder, while a member.
    /// @param batchId The batch.
    /// @param documentRoot The record's root (non-zero).
    function addDocuments(uint256 batchId, bytes32 documentRoot) external;

    /// @notice Whether `leaf` (a telemetry reading or document hash) is in the Merkle tree whose root
    ///         is the batch's content hash (a split child uses its parent's). OpenZeppelin MerkleProof.
    /// @param batchId The batch.
    /// @param leaf The leaf hash.
    /// @param proof Sibling hashes from the leaf to the root.
    /// @return included True when the proof leads to the root.
    function verifyTelemetry(uint256 batchId, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool included);

    /// @notice Contained tungsten of a batch, in gram-ppm (mass x grade).
    /// @param batchId The batch.
    /// @return contained The amount.
    function containedTungsten(uint256 batchId) external view returns (uint256 contained);

    /// @notice Number of batches created so far (ids are 1..count).
    /// @return count The number.
    function batchCount() external view returns (uint256 count);

    /// @notice Number of processing steps so far (ids are 1..count).
    /// @return count The number.
    function processCount() external view returns (uint32 count);

    /// @notice Ordering rank of a stage; SCRAP has none (type(uint8).max).
    /// @param stage A Stage value.
    /// @return rank The rank.
    function stageRank(uint8 stage) external pure returns (uint8 rank);
}
