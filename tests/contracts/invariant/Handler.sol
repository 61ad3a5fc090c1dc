// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";

import {AttestationRegistry} from "../../../contracts/AttestationRegistry.sol";
import {Consortium} from "../../../contracts/Consortium.sol";
import {MineralPassport} from "../../../contracts/MineralPassport.sol";
import {IAttestationRegistry} from "../../../contracts/interfaces/IAttestationRegistry.sol";
import {IMineralPassport} from "../../../contracts/interfaces/IMineralPassport.sol";

/// @notice Drives random consortium activity and keeps its own tallies, independent of the
///         contracts' storage, for the invariants to compare against.
contract Handler is Test {
    Consortium internal immutable consortium;
    MineralPassport internal immutable passport;
    AttestationRegistry internal immutable registry;
    address internal immutable admin;
    uint32 internal immutable mine;
    uint256 internal immutable schemaId;
    uint16 internal immutable assayToleranceBps;

    address[] public miners;
    address[] public processors;
    uint32[] public plants;
    address[] public certifiers;
    address public outsider;

    // ---- tallies
    uint256 public mintedContained;
    uint256 public toleranceUsed;
    uint256 public toleranceAllowed;
    uint256 public liveContained;
    bool public consumedBatchMoved;
    /// @dev Set if a processing step was accepted whose outputs exceed its inputs plus tolerance.
    bool public tungstenCreated;
    uint256 public processed;
    mapping(uint256 batchId => address) public ownerAtConsumption;
    mapping(uint256 batchId => address) public custodianAtConsumption;
    uint256[] public consumed;

    struct Window {
        uint40 from;
        uint40 until;
    }

    mapping(address certifier => Window[]) internal _windows;
    bytes32[] public uids;
    mapping(bytes32 uid => bool) public revokedByHandler;
    mapping(bytes32 uid => uint64) public expiryOf;
    mapping(bytes32 uid => address) public certifierOf;
    mapping(bytes32 uid => uint40) public issuedAtOf;
    uint256 internal _salt;

    mapping(bytes32 => uint256) public calls;

    constructor(
        Consortium consortium_,
        MineralPassport passport_,
        AttestationRegistry registry_,
        address admin_,
        address[] memory miners_,
        uint32 mine_,
        address[] memory processors_,
        uint32[] memory plants_,
        address[] memory certifiers_,
        uint256 schemaId_,
        address outsider_
    ) {
        consortium = consortium_;
        passport = passport_;
        registry = registry_;
        admin = admin_;
        miners = miners_;
        mine = mine_;
        processors = processors_;
        plants = plants_;
        certifiers = certifiers_;
        schemaId = schemaId_;
        outsider = outsider_;
        assayToleranceBps = passport_.assayToleranceBps();
    }

    // ------------------------------------------------------------ views for the invariants

    function consumedCount() external view returns (uint256) {
        return consumed.length;
    }

    function uidCount() external view returns (uint256) {
        return uids.length;
    }

    /// @dev The handler's own verdict: accredited when issued, unexpired, unrevoked.
    function expectedValid(bytes32 uid) external view returns (bool) {
        if (revokedByHandler[uid]) return false;
        uint64 exp = expiryOf[uid];
        if (exp != 0 && block.timestamp >= exp) return false;
        Window[] storage ws = _windows[certifierOf[uid]];
        uint40 t = issuedAtOf[uid];
        for (uint256 i = 0; i < ws.length; ++i) {
            if (ws[i].from <= t && t < ws[i].until) return true;
        }
        return false;
    }

    // ------------------------------------------------------------ actions

    function mint(uint256 minerSeed, uint64 mass, uint24 grade) external {
        calls["mint"]++;
        address m = miners[minerSeed % miners.length];
        mass = uint64(bound(mass, 1, 1e12));
        grade = uint24(bound(grade, 1, 1_000_000));
        vm.prank(m);
        try passport.mint(mine, uint8(IMineralPassport.Stage.CONCENTRATE), mass, grade, bytes32(0)) {
            mintedContained += uint256(mass) * grade;
            liveContained += uint256(mass) * grade;
        } catch {
            // Only the first miner operates the mine; the others are refused.
        }
    }

    function transfer(uint256 batchSeed, uint256 toSeed) external {
        calls["transfer"]++;
        uint256 id = _anyBatch(batchSeed);
        if (id == 0) return;
        address from = passport.ownerOf(id);
        address to = _anyActor(toSeed);
        bool wasConsumed = passport.batch(id).flags & passport.FLAG_CONSUMED() != 0;
        vm.prank(from);
        try passport.transferFrom(from, to, id) {
            if (wasConsumed) consumedBatchMoved = true;
        } catch {}
    }

    /// @dev The usual trade: a holder hands a batch (title and custody) to a processor.
    function supply(uint256 batchSeed, uint256 processorSeed, uint64 measured) external {
        calls["supply"]++;
        uint256 id = _anyBatch(batchSeed);
        if (id == 0) return;
        IMineralPassport.Batch memory b = passport.batch(id);
        address to = processors[processorSeed % processors.length];
        vm.prank(b.owner);
        try passport.offer(id, to) {}
        catch {
            return;
        }
        vm.prank(to);
        try passport.accept(id, uint64(bound(measured, b.massGrams / 2, b.massGrams))) {}
        catch {
            vm.prank(b.owner);
            passport.cancelOffer(id);
        }
    }

    /// @dev Leaves the offer pending: later actions (a split, a transfer, a sanction) may overtake it.
    function offer(uint256 batchSeed, uint256 toSeed, bool custodyOnly) external {
        calls["offer"]++;
        uint256 id = _anyBatch(batchSeed);
        if (id == 0) return;
        address owner = passport.ownerOf(id);
        address to = _anyActor(toSeed);
        vm.prank(owner);
        if (custodyOnly) {
            try passport.offerCustody(id, to) {} catch {}
        } else {
            try passport.offer(id, to) {} catch {}
        }
    }

    function accept(uint256 batchSeed, uint64 measured) external {
        calls["accept"]++;
        uint256 id = _anyBatch(batchSeed);
        if (id == 0) return;
        IMineralPassport.Batch memory b = passport.batch(id);
        address to = passport.offerOf(id).to;
        if (to == address(0)) return;
        bool wasConsumed = b.flags & passport.FLAG_CONSUMED() != 0;
        vm.prank(to);
        try passport.accept(id, uint64(bound(measured, 0, uint256(b.massGrams) * 2))) {
            if (wasConsumed) consumedBatchMoved = true;
        } catch {}
    }

    function split(uint256 batchSeed, uint8 parts, uint256 seed) external {
        calls["split"]++;
        uint256 id = _anyBatch(batchSeed);
        if (id == 0) return;
        IMineralPassport.Batch memory b = passport.batch(id);
        uint256 n = bound(parts, 2, 4);
        if (b.massGrams < n) return;
        uint64[] memory m = new uint64[](n);
        uint64 left = b.massGrams;
        for (uint256 i = 0; i < n - 1; ++i) {
            m[i] = uint64(bound(uint256(keccak256(abi.encode(seed, i))), 1, left - (n - 1 - i)));
            left -= m[i];
        }
        m[n - 1] = left;
        vm.prank(b.owner);
        try passport.split(id, m) {
            _consume(id, b);
            // Children hold exactly the parent's contained tungsten: the live tally is unchanged.
        } catch {}
    }

    function process(uint256 who, uint256 seed, uint16 yieldBps) external {
        calls["process"]++;
        uint256 p = who % processors.length;
        address processor = processors[p];
        uint256[] memory inputs = _heldBy(processor, seed, 3);
        if (inputs.length == 0) return;
        uint256 inContained;
        uint8 maxRank;
        for (uint256 i = 0; i < inputs.length; ++i) {
            IMineralPassport.Batch memory b = passport.batch(inputs[i]);
            inContained += uint256(b.massGrams) * b.gradePpm;
            uint8 r = passport.stageRank(uint8(b.stage));
            if (r != type(uint8).max && r > maxRank) maxRank = r;
        }
        // Output: the next stage up (or scrap at the top), with a yield of 50 %..(100 % + 2 x tolerance).
        uint8 stage = maxRank >= 5 ? uint8(IMineralPassport.Stage.SCRAP) : maxRank + 1;
        uint256 y = bound(yieldBps, 5_000, 10_000 + 4 * uint256(assayToleranceBps));
        uint256 outContained = inContained * y / 10_000;
        uint24 grade = 500_000;
        uint256 massOut = outContained / grade;
        if (massOut == 0 || massOut > type(uint64).max) return;
        outContained = massOut * grade;
        IMineralPassport.ProcessOutput[] memory outs = new IMineralPassport.ProcessOutput[](1);
        outs[0] = IMineralPassport.ProcessOutput(stage, uint64(massOut), grade, bytes32(0));
        IMineralPassport.Batch[] memory before = new IMineralPassport.Batch[](inputs.length);
        for (uint256 i = 0; i < inputs.length; ++i) {
            before[i] = passport.batch(inputs[i]);
        }
        vm.prank(processor);
        try passport.process(inputs, plants[p], outs) {
            for (uint256 i = 0; i < inputs.length; ++i) {
                _consume(inputs[i], before[i]);
            }
            liveContained = liveContained - inContained + outContained;
            uint256 allowance = inContained * assayToleranceBps / 10_000;
            toleranceAllowed += allowance;
            if (outContained > inContained) toleranceUsed += outContained - inContained;
            if (outContained > inContained + allowance) tungstenCreated = true;
            ++processed;
        } catch {}
    }

    function attest(uint256 certSeed, uint256 subjectSeed, uint32 ttl) external {
        calls["attest"]++;
        uint256 count = passport.batchCount();
        if (count == 0) return;
        address c = certifiers[certSeed % certifiers.length];
        uint64 exp = ttl % 4 == 0 ? 0 : uint64(block.timestamp + bound(ttl, 1, 90 days));
        IAttestationRegistry.AttestationRequest memory r = IAttestationRegistry.AttestationRequest({
            schemaId: schemaId,
            subject: 1 + subjectSeed % count,
            dataHash: keccak256(abi.encode(subjectSeed)),
            expiresAt: exp,
            salt: bytes32(++_salt)
        });
        vm.prank(c);
        try registry.attest(r) returns (bytes32 uid) {
            uids.push(uid);
            expiryOf[uid] = exp;
            certifierOf[uid] = c;
            issuedAtOf[uid] = uint40(block.timestamp);
        } catch {}
    }

    function revoke(uint256 uidSeed) external {
        calls["revoke"]++;
        if (uids.length == 0) return;
        bytes32 uid = uids[uidSeed % uids.length];
        vm.prank(certifierOf[uid]);
        try registry.revoke(uid) {
            revokedByHandler[uid] = true;
        } catch {}
    }

    function accredit(uint256 certSeed, uint32 duration) external {
        calls["accredit"]++;
        address c = certifiers[certSeed % certifiers.length];
        uint40 until = uint40(block.timestamp + bound(duration, 1, 60 days));
        vm.prank(admin);
        uint256 id = consortium.proposeAccreditation(c, schemaId, until);
        vm.prank(admin);
        consortium.execute(id);
        Window[] storage ws = _windows[c];
        if (ws.length == 0 || block.timestamp >= ws[ws.length - 1].until) {
            ws.push(Window(uint40(block.timestamp), until));
        } else {
            ws[ws.length - 1].until = until;
        }
    }

    function endAccreditation(uint256 certSeed) external {
        calls["endAccreditation"]++;
        address c = certifiers[certSeed % certifiers.length];
        Window[] storage ws = _windows[c];
        if (ws.length == 0 || block.timestamp >= ws[ws.length - 1].until) return;
        vm.prank(admin);
        uint256 id = consortium.proposeRevokeAccreditation(c, schemaId);
        vm.prank(admin);
        consortium.execute(id);
        ws[ws.length - 1].until = uint40(block.timestamp);
    }

    function warp(uint32 secondsAhead) external {
        calls["warp"]++;
        vm.warp(block.timestamp + bound(secondsAhead, 1, 30 days));
    }

    // ------------------------------------------------------------ helpers

    function _consume(uint256 id, IMineralPassport.Batch memory b) internal {
        consumed.push(id);
        ownerAtConsumption[id] = b.owner;
        custodianAtConsumption[id] = b.custodian;
    }

    function _anyBatch(uint256 seed) internal view returns (uint256) {
        uint256 count = passport.batchCount();
        return count == 0 ? 0 : 1 + seed % count;
    }

    function _anyActor(uint256 seed) internal view returns (address) {
        uint256 pick = seed % (miners.length + processors.length + 1);
        if (pick < miners.length) return miners[pick];
        pick -= miners.length;
        return pick < processors.length ? processors[pick] : outsider;
    }

    /// @dev Up to `max` unconsumed batches that `holder` owns and physically holds, ascending.
    function _heldBy(address holder, uint256 seed, uint256 max) internal view returns (uint256[] memory ids) {
        uint256 count = passport.batchCount();
        uint256[] memory found = new uint256[](max);
        uint256 n;
        for (uint256 k = 0; k < count && n < max; ++k) {
            uint256 id = 1 + (seed % count + k) % count;
            IMineralPassport.Batch memory b = passport.batch(id);
            if (b.owner == holder && b.custodian == holder && b.flags & passport.FLAG_CONSUMED() == 0) {
                found[n++] = id;
            }
        }
        // Sort ascending (insertion sort over at most `max` ids).
        for (uint256 i = 1; i < n; ++i) {
            uint256 v = found[i];
            uint256 j = i;
            while (j > 0 && found[j - 1] > v) {
                found[j] = found[j - 1];
                --j;
            }
            found[j] = v;
        }
        ids = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = found[i];
        }
    }
}
