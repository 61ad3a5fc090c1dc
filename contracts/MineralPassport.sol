// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IConsortium} from "./interfaces/IConsortium.sol";
import {IMineralPassport} from "./interfaces/IMineralPassport.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title MineralPassport
/// @notice Batches of tungsten material as permissioned ERC-721 tokens with two-phase custody,
///         exact-mass splits, mass-balanced processing, taint inheritance and regulator controls.
contract MineralPassport is IMineralPassport, IERC721Metadata, IERC721Errors {
    using Strings for uint256;

    uint8 public constant FLAG_CONSUMED = 1;
    uint8 public constant FLAG_FROZEN = 2;
    uint8 public constant FLAG_TAINTED = 4;
    uint8 public constant FLAG_DISCREPANCY = 8;
    uint8 public constant FLAG_OFFER_PENDING = 16;
    uint8 public constant FLAG_FROM_SPLIT = 32;
    uint8 public constant FLAG_FROM_PROCESS = 64;
    /// @dev Set while `_tokenApprovals` may hold an address, so transfers skip that slot otherwise.
    uint8 public constant FLAG_APPROVED = 128;

    /// @notice Most children of one split and most inputs or outputs of one processing step.
    uint256 public constant MAX_CHILDREN = 64;
    uint24 private constant _MAX_GRADE_PPM = 1_000_000;
    uint256 private constant _BPS = 10_000;
    uint8 private constant _NO_RANK = type(uint8).max;
    uint8 private constant _HISTORY_MAX = type(uint8).max;

    /// @dev Slot 1 of a batch: everything a transfer reads and writes (owner, stage, flags,
    ///      grade, production facility and its country) and the history counter, in 32 bytes, so
    ///      a title move touches one slot.
    ///      `history` counts the batch's history events: BatchMinted, CustodyOffered,
    ///      CustodyOfferCancelled, CustodyAccepted, CustodyDiscrepancyRecorded, a title Transfer
    ///      outside `accept`, BatchSplit, BatchFrozen, BatchUnfrozen and BatchTainted. A storage proof
    ///      of it proves a passport's list of them complete. It saturates at 255 (then the list
    ///      can only be proven to hold at least 255).
    struct Record {
        address owner;
        Stage stage;
        uint8 flags;
        uint24 gradePpm;
        uint32 facilityId;
        bytes2 country;
        uint8 history;
    }

    /// @dev Slot 2 of a batch: physical holder, net mass (uint64 grams is 1.8e13 t) and
    ///      lineage reference (the parent batch id for split children, the process id for outputs;
    ///      batch ids are capped at uint32 so both fit).
    struct Holding {
        address custodian;
        uint64 massGrams;
        uint32 parentRef;
    }

    IConsortium public immutable consortium;
    /// @notice Largest accepted difference between recorded and measured mass at handover, in bps.
    uint16 public immutable massToleranceBps;
    /// @notice How far outputs' contained tungsten may exceed inputs' (assay uncertainty), in bps.
    uint16 public immutable assayToleranceBps;

    mapping(uint256 batchId => Record) private _records;
    mapping(uint256 batchId => Holding) private _holdings;
    /// @dev Written only when non-zero: split children share their parent's documents.
    mapping(uint256 batchId => bytes32) private _contentHashes;
    mapping(uint256 batchId => Offer) private _offers;
    mapping(uint32 processId => uint256[]) private _processInputs;
    mapping(address holder => uint256) private _balances;
    mapping(uint256 batchId => address) private _tokenApprovals;
    mapping(address holder => mapping(address operator => bool)) private _operatorApprovals;

    uint32 private _batchCount;
    uint32 private _processCount;
    string private _baseTokenURI;

    /// @notice Deploys the registry.
    /// @param consortium_ The consortium answering membership, facility and sanction questions.
    /// @param massToleranceBps_ Handover tolerance in bps (e.g. 50 = 0.5 %).
    /// @param assayToleranceBps_ Processing assay tolerance in bps (e.g. 100 = 1 %).
    /// @param baseTokenURI_ Prefix of `tokenURI` (the batch id is appended); may be empty.
    constructor(IConsortium consortium_, uint16 massToleranceBps_, uint16 assayToleranceBps_, string memory baseTokenURI_) {
        if (address(consortium_).code.length == 0) revert BatchInvalidConsortium(address(consortium_));
        if (massToleranceBps_ > _BPS) revert BatchInvalidTolerance(massToleranceBps_);
        if (assayToleranceBps_ > _BPS) revert BatchInvalidTolerance(assayToleranceBps_);
        consortium = consortium_;
        massToleranceBps = massToleranceBps_;
        assayToleranceBps = assayToleranceBps_;
        _baseTokenURI = baseTokenURI_;
    }

    // ------------------------------------------------------------------ batches

    /// @inheritdoc IMineralPassport
    function mint(uint32 facilityId, uint8 stage, uint64 massGrams, uint24 gradePpm, bytes32 contentHash)
        external
        returns (uint256 batchId)
    {
        Stage s = _stage(stage);
        _checkQuantity(massGrams, gradePpm);
        uint8 role = s == Stage.SCRAP ? Roles.PROCESSOR : Roles.MINER;
        (bytes2 country, IConsortium.FacilityKind kind) = consortium.requireOperator(msg.sender, facilityId, role);
        bool allowed = s == Stage.SCRAP
            ? kind == IConsortium.FacilityKind.RECYCLER
            : (s == Stage.ORE || s == Stage.CONCENTRATE)
                && (kind == IConsortium.FacilityKind.MINE || kind == IConsortium.FacilityKind.CONCENTRATOR);
        if (!allowed) revert BatchMintNotAllowed(stage, kind);
        batchId = _nextId(1);
        _create(
            batchId,
            Record({
                owner: msg.sender,
                stage: s,
                flags: 0,
                gradePpm: gradePpm,
                facilityId: facilityId,
                country: country,
                history: 1
            }),
            Holding({custodian: msg.sender, massGrams: massGrams, parentRef: 0}),
            contentHash
        );
        ++_balances[msg.sender];
        emit BatchMinted(batchId, msg.sender, facilityId, s, massGrams, gradePpm, country, contentHash);
    }

    /// @inheritdoc IMineralPassport
    function offer(uint256 batchId, address to) external {
        Record memory r = _live(batchId);
        if (r.owner != msg.sender) revert BatchNotHolder(batchId, msg.sender);
        if (to == msg.sender) revert BatchInvalidReceiver(to);
        _offer(batchId, r, msg.sender, to, false);
    }

    /// @inheritdoc IMineralPassport
    function offerCustody(uint256 batchId, address to) external {
        Record memory r = _live(batchId);
        address custodian = _holdings[batchId].custodian;
        if (r.owner != msg.sender && custodian != msg.sender) revert BatchNotCustodian(batchId, msg.sender);
        if (to == custodian) revert BatchInvalidReceiver(to);
        _offer(batchId, r, custodian, to, true);
    }

    /// @inheritdoc IMineralPassport
    function cancelOffer(uint256 batchId) external {
        Record storage r = _existing(batchId);
        if (r.flags & FLAG_OFFER_PENDING == 0) revert BatchNoOffer(batchId);
        address to = _offers[batchId].to;
        if (msg.sender != r.owner && msg.sender != to && msg.sender != _holdings[batchId].custodian) {
            revert BatchNotCustodian(batchId, msg.sender);
        }
        r.flags &= ~FLAG_OFFER_PENDING;
        r.history = _bumped(r.history, 1);
        delete _offers[batchId];
        emit CustodyOfferCancelled(batchId, msg.sender, to);
    }

    /// @inheritdoc IMineralPassport
    function accept(uint256 batchId, uint64 measuredGrams) external {
        Record memory r = _existingMemory(batchId);
        if (r.flags & FLAG_OFFER_PENDING == 0) revert BatchNoOffer(batchId);
        _checkMovable(batchId, r.flags);
        (address to, bool custodyOnly) = _pendingOffer(batchId);
        if (to != msg.sender) revert BatchNotOfferee(batchId, msg.sender, to);
        Holding storage h = _holdings[batchId];
        address from = custodyOnly ? h.custodian : r.owner;
        consortium.requireTransfer(from, msg.sender, r.facilityId);

        r.flags &= ~FLAG_OFFER_PENDING;
        uint64 recorded = h.massGrams;
        uint256 diff = measuredGrams > recorded ? measuredGrams - recorded : recorded - measuredGrams;
        bool discrepancy = diff * _BPS > uint256(recorded) * massToleranceBps;
        if (discrepancy) r.flags |= FLAG_DISCREPANCY;
        // CustodyAccepted, and CustodyDiscrepancyRecorded with it.
        uint256 events = discrepancy ? 2 : 1;
        if (!custodyOnly) {
            _moveTitle(batchId, r, from, msg.sender, events);
        } else {
            _setOwnerAndFlags(batchId, r.owner, r.flags, events);
        }
        h.custodian = msg.sender;
        delete _offers[batchId];
        emit CustodyAccepted(batchId, msg.sender, from, custodyOnly, measuredGrams);
        if (discrepancy) emit CustodyDiscrepancyRecorded(batchId, msg.sender, recorded, measuredGrams);
    }

    /// @inheritdoc IMineralPassport
    function split(uint256 batchId, uint64[] calldata masses) external returns (uint256 firstChildId) {
        Record memory r = _existingMemory(batchId);
        if (r.owner != msg.sender) revert BatchNotHolder(batchId, msg.sender);
        _checkUnlocked(batchId, r.flags);
        consortium.requireMember(msg.sender, 0);
        uint256 n = masses.length;
        if (n < 2 || n > MAX_CHILDREN) revert BatchSplitCount(n);
        Holding memory h = _holdings[batchId];
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            if (masses[i] == 0) revert BatchZeroMass();
            total += masses[i];
        }
        if (total != h.massGrams) revert BatchSplitMassMismatch(batchId, h.massGrams, total);

        r.flags |= FLAG_CONSUMED;
        r.history = _bumped(r.history, 1);
        _records[batchId] = r;
        firstChildId = _nextId(n);
        // Children keep the parent's stage, grade, facility and custodian, the taint, and point at
        // the parent; equal grade and exactly summed masses conserve contained tungsten.
        Record memory child = Record({
            owner: msg.sender,
            stage: r.stage,
            flags: FLAG_FROM_SPLIT | (r.flags & FLAG_TAINTED),
            gradePpm: r.gradePpm,
            facilityId: r.facilityId,
            country: r.country,
            history: 0
        });
        // Cannot truncate: batch ids are capped at uint32 by _nextId.
        Holding memory held = Holding({custodian: h.custodian, massGrams: 0, parentRef: uint32(batchId)});
        for (uint256 i = 0; i < n; ++i) {
            held.massGrams = masses[i];
            _create(firstChildId + i, child, held, 0);
        }
        // The parent's title leaves the holder's balance; its n children join it.
        _balances[msg.sender] += n - 1;
        emit BatchSplit(batchId, msg.sender, firstChildId, masses);
    }

    /// @inheritdoc IMineralPassport
    function process(uint256[] calldata inputIds, uint32 facilityId, ProcessOutput[] calldata outputs)
        external
        returns (uint256 firstOutputId)
    {
        if (inputIds.length == 0 || outputs.length == 0 || inputIds.length > MAX_CHILDREN || outputs.length > MAX_CHILDREN)
        {
            revert BatchProcessCount(inputIds.length, outputs.length);
        }
        Step memory step;
        (step.country,) = consortium.requireOperator(msg.sender, facilityId, Roles.PROCESSOR);
        step.facilityId = facilityId;
        _consumeInputs(inputIds, step);
        _checkOutputs(outputs, step);
        step.processId = ++_processCount;
        _processInputs[step.processId] = inputIds;
        firstOutputId = _nextId(outputs.length);
        _createOutputs(firstOutputId, outputs, step);
        // Inputs leave the processor's balance, outputs join it.
        _balances[msg.sender] = _balances[msg.sender] + outputs.length - inputIds.length;
        emit BatchesProcessed(
            step.processId, facilityId, msg.sender, inputIds, step.inputMasses, step.outputIds, step.outputMasses
        );
    }

    /// @inheritdoc IMineralPassport
    function addDocuments(uint256 batchId, bytes32 documentRoot) external {
        if (_existingMemory(batchId).owner != msg.sender) revert BatchNotHolder(batchId, msg.sender);
        if (documentRoot == 0) revert BatchEmptyDocumentRoot(batchId);
        consortium.requireMember(msg.sender, 0);
        emit BatchDocumentsAdded(batchId, msg.sender, documentRoot);
    }

    /// @inheritdoc IMineralPassport
    function freeze(uint256 batchId, bytes32 reason) external {
        consortium.requireMember(msg.sender, Roles.REGULATOR);
        Record storage r = _existing(batchId);
        if (r.flags & FLAG_FROZEN != 0) revert BatchIsFrozen(batchId);
        r.flags |= FLAG_FROZEN;
        r.history = _bumped(r.history, 1);
        emit BatchFrozen(batchId, msg.sender, reason);
    }

    /// @inheritdoc IMineralPassport
    function unfreeze(uint256 batchId) external {
        consortium.requireMember(msg.sender, Roles.REGULATOR);
        Record storage r = _existing(batchId);
        if (r.flags & FLAG_FROZEN == 0) revert BatchNotFrozen(batchId);
        r.flags &= ~FLAG_FROZEN;
        r.history = _bumped(r.history, 1);
        emit BatchUnfrozen(batchId, msg.sender);
    }

    /// @inheritdoc IMineralPassport
    function taint(uint256 batchId, bytes32 reason) external {
        consortium.requireMember(msg.sender, Roles.REGULATOR);
        Record storage r = _existing(batchId);
        if (r.flags & FLAG_TAINTED != 0) revert BatchIsTainted(batchId);
        r.flags |= FLAG_TAINTED;
        r.history = _bumped(r.history, 1);
        emit BatchTainted(batchId, msg.sender, reason);
    }

    // ------------------------------------------------------------------ ERC-721

    /// @inheritdoc IERC721
    function transferFrom(address from, address to, uint256 tokenId) public {
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        Record memory r = _existingMemoryOrErc(tokenId);
        if (r.owner != from) revert ERC721IncorrectOwner(from, tokenId, r.owner);
        if (
            msg.sender != from && !_operatorApprovals[from][msg.sender]
                && (r.flags & FLAG_APPROVED == 0 || _tokenApprovals[tokenId] != msg.sender)
        ) {
            revert ERC721InsufficientApproval(msg.sender, tokenId);
        }
        _checkMovable(tokenId, r.flags);
        consortium.requireTransfer(from, to, r.facilityId);
        // A title move withdraws any pending handover offer: the new holder decides anew.
        r.flags &= ~FLAG_OFFER_PENDING;
        _moveTitle(tokenId, r, from, to, 1);
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, data);
    }

    /// @inheritdoc IERC721
    function approve(address to, uint256 tokenId) external {
        Record storage r = _records[tokenId];
        address owner = r.owner;
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
        if (msg.sender != owner && !_operatorApprovals[owner][msg.sender]) revert ERC721InvalidApprover(msg.sender);
        r.flags |= FLAG_APPROVED;
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    /// @inheritdoc IERC721
    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert ERC721InvalidOperator(operator);
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @inheritdoc IERC721
    function getApproved(uint256 tokenId) external view returns (address) {
        if (_existingMemoryOrErc(tokenId).flags & FLAG_APPROVED == 0) return address(0);
        return _tokenApprovals[tokenId];
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _balances[owner];
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 tokenId) external view returns (address) {
        return _existingMemoryOrErc(tokenId).owner;
    }

    /// @inheritdoc IERC721Metadata
    function name() external pure returns (string memory) {
        return "Mineral Passport Batch";
    }

    /// @inheritdoc IERC721Metadata
    function symbol() external pure returns (string memory) {
        return "MPB";
    }

    /// @inheritdoc IERC721Metadata
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        _existingMemoryOrErc(tokenId);
        string memory base = _baseTokenURI;
        return bytes(base).length == 0 ? "" : string.concat(base, tokenId.toString());
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IERC721).interfaceId
            || interfaceId == type(IERC721Metadata).interfaceId;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IMineralPassport
    function batch(uint256 batchId) external view returns (Batch memory b) {
        Record memory r = _existingMemory(batchId);
        Holding memory h = _holdings[batchId];
        b = Batch({
            owner: r.owner,
            stage: r.stage,
            flags: r.flags,
            gradePpm: r.gradePpm,
            facilityId: r.facilityId,
            country: r.country,
            custodian: h.custodian,
            massGrams: h.massGrams,
            parentRef: h.parentRef,
            contentHash: _contentHashes[batchId]
        });
    }

    /// @inheritdoc IMineralPassport
    function parentsOf(uint256 batchId) external view returns (uint256[] memory parents) {
        uint8 flags = _existingMemory(batchId).flags;
        uint32 ref = _holdings[batchId].parentRef;
        if (flags & FLAG_FROM_SPLIT != 0) {
            parents = new uint256[](1);
            parents[0] = ref;
        } else if (flags & FLAG_FROM_PROCESS != 0) {
            parents = _processInputs[ref];
        }
    }

    /// @inheritdoc IMineralPassport
    function processInputs(uint32 processId) external view returns (uint256[] memory) {
        return _processInputs[processId];
    }

    /// @inheritdoc IMineralPassport
    function offerOf(uint256 batchId) external view returns (Offer memory pending) {
        if (_existingMemory(batchId).flags & FLAG_OFFER_PENDING != 0) pending = _offers[batchId];
    }

    /// @inheritdoc IMineralPassport
    function isTainted(uint256 batchId) external view returns (bool) {
        Record memory r = _existingMemory(batchId);
        return r.flags & FLAG_TAINTED != 0 || consortium.isFacilityFlagged(r.facilityId);
    }

    /// @inheritdoc IMineralPassport
    function verifyTelemetry(uint256 batchId, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        uint256 id = batchId;
        _existingMemory(id);
        // Split children share their parent's documents: walk up to the batch that holds them.
        while (_contentHashes[id] == 0 && _records[id].flags & FLAG_FROM_SPLIT != 0) {
            id = _holdings[id].parentRef;
        }
        return MerkleProof.verifyCalldata(proof, _contentHashes[id], leaf);
    }

    /// @inheritdoc IMineralPassport
    function containedTungsten(uint256 batchId) external view returns (uint256) {
        return uint256(_holdings[batchId].massGrams) * _existingMemory(batchId).gradePpm;
    }

    /// @inheritdoc IMineralPassport
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    /// @inheritdoc IMineralPassport
    function processCount() external view returns (uint32) {
        return _processCount;
    }

    /// @inheritdoc IMineralPassport
    function stageRank(uint8 stage) external pure returns (uint8) {
        return _rank(_stage(stage));
    }

    // ------------------------------------------------------------------ internals

    /// @dev One processing step's working state, kept in memory to stay within the stack.
    struct Step {
        uint256 contained;
        uint256 maxRankInput;
        uint8 maxRank;
        bool ranked;
        bool tainted;
        bytes2 country;
        uint32 facilityId;
        uint32 processId;
        uint64[] inputMasses;
        uint256[] outputIds;
        uint64[] outputMasses;
    }

    function _consumeInputs(uint256[] calldata inputIds, Step memory step) private {
        uint256 n = inputIds.length;
        step.inputMasses = new uint64[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 id = inputIds[i];
            if (i > 0 && id <= inputIds[i - 1]) revert BatchInputsNotAscending(i);
            Record memory r = _existingMemory(id);
            if (r.owner != msg.sender) revert BatchNotHolder(id, msg.sender);
            _checkUnlocked(id, r.flags);
            Holding memory h = _holdings[id];
            if (h.custodian != msg.sender) revert BatchNotCustodian(id, msg.sender);
            step.tainted = step.tainted || r.flags & FLAG_TAINTED != 0 || consortium.isFacilityFlagged(r.facilityId);
            uint8 rank = _rank(r.stage);
            if (rank != _NO_RANK && (!step.ranked || rank > step.maxRank)) {
                step.maxRank = rank;
                step.maxRankInput = id;
                step.ranked = true;
            }
            step.contained += uint256(h.massGrams) * r.gradePpm;
            step.inputMasses[i] = h.massGrams;
            r.flags |= FLAG_CONSUMED;
            _records[id] = r;
        }
    }

    function _checkOutputs(ProcessOutput[] calldata outputs, Step memory step) private view {
        uint256 outputContained = 0;
        for (uint256 j = 0; j < outputs.length; ++j) {
            ProcessOutput calldata o = outputs[j];
            Stage s = _stage(o.stage);
            _checkQuantity(o.massGrams, o.gradePpm);
            uint8 rank = _rank(s);
            if (step.ranked && rank != _NO_RANK && rank <= step.maxRank) {
                revert BatchStageOrder(step.maxRankInput, _records[step.maxRankInput].stage, s);
            }
            outputContained += uint256(o.massGrams) * o.gradePpm;
        }
        uint256 allowed = step.contained * (_BPS + assayToleranceBps) / _BPS;
        if (outputContained > allowed) revert BatchMassBalanceExceeded(step.contained, outputContained, allowed);
    }

    function _createOutputs(uint256 firstOutputId, ProcessOutput[] calldata outputs, Step memory step) private {
        uint256 n = outputs.length;
        Record memory out = Record({
            owner: msg.sender,
            stage: Stage.ORE,
            flags: FLAG_FROM_PROCESS | (step.tainted ? FLAG_TAINTED : 0),
            gradePpm: 0,
            facilityId: step.facilityId,
            country: step.country,
            history: 0
        });
        Holding memory held = Holding({custodian: msg.sender, massGrams: 0, parentRef: step.processId});
        step.outputIds = new uint256[](n);
        step.outputMasses = new uint64[](n);
        for (uint256 j = 0; j < n; ++j) {
            ProcessOutput calldata o = outputs[j];
            uint256 id = firstOutputId + j;
            out.stage = Stage(o.stage);
            out.gradePpm = o.gradePpm;
            held.massGrams = o.massGrams;
            _create(id, out, held, o.contentHash);
            step.outputIds[j] = id;
            step.outputMasses[j] = o.massGrams;
            emit BatchProduced(id, step.processId, out.stage, o.massGrams, o.gradePpm, step.tainted, o.contentHash);
        }
    }

    function _create(uint256 batchId, Record memory r, Holding memory h, bytes32 contentHash) private {
        _records[batchId] = r;
        _holdings[batchId] = h;
        if (contentHash != 0) _contentHashes[batchId] = contentHash;
        emit Transfer(address(0), r.owner, batchId);
    }

    function _offer(uint256 batchId, Record memory r, address from, address to, bool custodyOnly) private {
        if (r.flags & FLAG_OFFER_PENDING != 0) revert BatchOfferPending(batchId, _offers[batchId].to);
        if (to == address(0)) revert BatchInvalidReceiver(to);
        // Membership and sanctions of both parties are checked where the batch moves, in `accept`.
        _setOwnerAndFlags(batchId, r.owner, r.flags | FLAG_OFFER_PENDING, 1);
        // One SSTORE for the whole Offer (to: bits 0-159, custodyOnly: 160-167, offeredAt: 168-207).
        uint256 packed = uint256(uint160(to)) | (custodyOnly ? 1 << 160 : 0) | (uint256(uint40(block.timestamp)) << 168);
        assembly ("memory-safe") {
            mstore(0x00, batchId)
            mstore(0x20, _offers.slot)
            sstore(keccak256(0x00, 0x40), packed)
        }
        emit CustodyOffered(batchId, from, to, custodyOnly);
    }

    function _moveTitle(uint256 batchId, Record memory r, address from, address to, uint256 events) private {
        uint8 flags = r.flags;
        if (flags & FLAG_APPROVED != 0) {
            flags &= ~FLAG_APPROVED;
            delete _tokenApprovals[batchId];
        }
        _setOwnerAndFlags(batchId, to, flags, events);
        // Cannot underflow: `from` holds this batch. Cannot overflow: ids are capped at uint32.
        unchecked {
            --_balances[from];
            ++_balances[to];
        }
        emit Transfer(from, to, batchId);
    }

    /// @dev Rewrites owner and flags of a record and adds `events` to its history counter
    ///      (saturating at 255) in one SSTORE; the legacy code generator would read-modify-write
    ///      the slot once per struct member. Offsets follow Solidity's packing of `Record`: owner
    ///      bits 0-159, stage 160-167, flags 168-175, history 248-255.
    function _setOwnerAndFlags(uint256 batchId, address owner, uint8 flags, uint256 events) private {
        assembly ("memory-safe") {
            mstore(0x00, batchId)
            mstore(0x20, _records.slot)
            let slot := keccak256(0x00, 0x40)
            let word := sload(slot)
            // The counter is the top byte: add `events` to the word, unless it would pass 255.
            switch lt(shr(248, word), sub(0x100, events))
            case 1 { word := add(word, shl(248, events)) }
            default { word := or(word, shl(248, 0xff)) }
            let keep := and(word, not(or(0xffffffffffffffffffffffffffffffffffffffff, shl(168, 0xff))))
            sstore(slot, or(keep, or(and(owner, 0xffffffffffffffffffffffffffffffffffffffff), shl(168, flags))))
        }
    }

    /// @dev The pending offer's receiver and kind, read from its packed slot (see `_offer`).
    function _pendingOffer(uint256 batchId) private view returns (address to, bool custodyOnly) {
        assembly ("memory-safe") {
            mstore(0x00, batchId)
            mstore(0x20, _offers.slot)
            let packed := sload(keccak256(0x00, 0x40))
            to := and(packed, 0xffffffffffffffffffffffffffffffffffffffff)
            custodyOnly := and(shr(160, packed), 0xff)
        }
    }

    /// @dev `history + events`, saturating at 255.
    function _bumped(uint8 history, uint256 events) private pure returns (uint8) {
        uint256 next = uint256(history) + events;
        return next > _HISTORY_MAX ? _HISTORY_MAX : uint8(next);
    }

    function _nextId(uint256 count) private returns (uint256 first) {
        uint256 last = uint256(_batchCount) + count;
        if (last > type(uint32).max) revert BatchIdSpaceExhausted();
        first = uint256(_batchCount) + 1;
        _batchCount = uint32(last);
    }

    function _existing(uint256 batchId) private view returns (Record storage r) {
        r = _records[batchId];
        if (r.owner == address(0)) revert BatchNotFound(batchId);
    }

    function _existingMemory(uint256 batchId) private view returns (Record memory r) {
        r = _records[batchId];
        if (r.owner == address(0)) revert BatchNotFound(batchId);
    }

    /// @dev ERC-721 entry points report a missing token with the standard ERC-6093 error.
    function _existingMemoryOrErc(uint256 tokenId) private view returns (Record memory r) {
        r = _records[tokenId];
        if (r.owner == address(0)) revert ERC721NonexistentToken(tokenId);
    }

    function _live(uint256 batchId) private view returns (Record memory r) {
        r = _existingMemory(batchId);
        _checkMovable(batchId, r.flags);
    }

    function _checkUnlocked(uint256 batchId, uint8 flags) private pure {
        if (flags & FLAG_CONSUMED != 0) revert BatchIsConsumed(batchId);
        if (flags & FLAG_FROZEN != 0) revert BatchIsFrozen(batchId);
    }

    function _checkMovable(uint256 batchId, uint8 flags) private pure {
        _checkUnlocked(batchId, flags);
        if (flags & FLAG_TAINTED != 0) revert BatchIsTainted(batchId);
    }

    function _checkQuantity(uint64 massGrams, uint24 gradePpm) private pure {
        if (massGrams == 0) revert BatchZeroMass();
        if (gradePpm == 0 || gradePpm > _MAX_GRADE_PPM) revert BatchInvalidGrade(gradePpm);
    }

    function _stage(uint8 stage) private pure returns (Stage) {
        if (stage > uint8(type(Stage).max)) revert BatchInvalidStage(stage);
        return Stage(stage);
    }

    /// @dev CARBIDE and WF6 share a rank: both are made from powder and neither from the other.
    function _rank(Stage stage) private pure returns (uint8) {
        if (stage == Stage.SCRAP) return _NO_RANK;
        if (stage == Stage.WF6) return uint8(Stage.CARBIDE);
        return uint8(stage);
    }
}
