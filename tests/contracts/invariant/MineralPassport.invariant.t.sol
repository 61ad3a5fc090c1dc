// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";

import {AttestationRegistry} from "../../../contracts/AttestationRegistry.sol";
import {Consortium} from "../../../contracts/Consortium.sol";
import {MineralPassport} from "../../../contracts/MineralPassport.sol";
import {IConsortium} from "../../../contracts/interfaces/IConsortium.sol";
import {IMineralPassport} from "../../../contracts/interfaces/IMineralPassport.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {Handler} from "./Handler.sol";

contract MineralPassportInvariantTest is Test {
    Consortium internal consortium;
    MineralPassport internal passport;
    AttestationRegistry internal registry;
    Handler internal handler;
    address[] internal holders;

    function setUp() public {
        vm.warp(1_800_000_000);
        address admin = makeAddr("admin");
        address[] memory miners = new address[](2);
        miners[0] = makeAddr("miner-a");
        miners[1] = makeAddr("miner-b");
        address[] memory processors = new address[](2);
        processors[0] = makeAddr("refiner");
        processors[1] = makeAddr("converter");
        address[] memory certifiers = new address[](2);
        certifiers[0] = makeAddr("certifier-a");
        certifiers[1] = makeAddr("certifier-b");

        IConsortium.MemberInit[] memory f = new IConsortium.MemberInit[](7);
        f[0] = IConsortium.MemberInit(admin, Roles.ADMIN, "VN");
        f[1] = IConsortium.MemberInit(miners[0], Roles.MINER, "VN");
        f[2] = IConsortium.MemberInit(miners[1], Roles.MINER, "VN");
        f[3] = IConsortium.MemberInit(processors[0], Roles.PROCESSOR, "VN");
        f[4] = IConsortium.MemberInit(processors[1], Roles.PROCESSOR, "JP");
        f[5] = IConsortium.MemberInit(certifiers[0], Roles.CERTIFIER, "CH");
        f[6] = IConsortium.MemberInit(certifiers[1], Roles.CERTIFIER, "DE");
        consortium = new Consortium(f, 1);
        passport = new MineralPassport(consortium, 50, 100, "");
        registry = new AttestationRegistry(consortium, passport);

        uint32[] memory plants = new uint32[](2);
        uint32 mine = _facility(admin, miners[0], "VN", IConsortium.FacilityKind.MINE);
        plants[0] = _facility(admin, processors[0], "VN", IConsortium.FacilityKind.REFINERY);
        plants[1] = _facility(admin, processors[1], "JP", IConsortium.FacilityKind.CONVERTER);
        vm.prank(admin);
        uint256 schemaId = registry.registerSchema("origin-verified", true, 0);

        handler = new Handler(
            consortium, passport, registry, admin, miners, mine, processors, plants, certifiers, schemaId, makeAddr("outsider")
        );
        targetContract(address(handler));
        holders = [miners[0], miners[1], processors[0], processors[1], certifiers[0], makeAddr("outsider")];
    }

    function _facility(address admin, address operator, bytes2 country, IConsortium.FacilityKind kind)
        internal
        returns (uint32)
    {
        vm.prank(admin);
        uint256 id = consortium.proposeAddFacility(operator, country, uint8(kind), 0);
        vm.prank(admin);
        consortium.execute(id);
        return consortium.facilityCount();
    }

    /// @notice Live contained tungsten equals the handler's tally and exceeds what was minted by at
    ///         most the assay tolerance processing granted: it grows only by minting.
    function invariant_ContainedTungstenGrowsOnlyByMint() public view {
        uint256 live;
        uint256 count = passport.batchCount();
        for (uint256 id = 1; id <= count; ++id) {
            IMineralPassport.Batch memory b = passport.batch(id);
            if (b.flags & passport.FLAG_CONSUMED() == 0) live += uint256(b.massGrams) * b.gradePpm;
        }
        assertEq(live, handler.liveContained(), "live tally");
        assertFalse(handler.tungstenCreated(), "a step created tungsten beyond the assay tolerance");
        assertLe(live, handler.mintedContained() + handler.toleranceUsed(), "live <= minted + tolerance used");
        assertLe(handler.toleranceUsed(), handler.toleranceAllowed(), "tolerance used <= allowed");
    }

    /// @notice A consumed batch keeps the owner and custodian it had when consumed.
    function invariant_ConsumedBatchNeverMoves() public view {
        assertFalse(handler.consumedBatchMoved(), "a move of a consumed batch succeeded");
        uint256 n = handler.consumedCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 id = handler.consumed(i);
            IMineralPassport.Batch memory b = passport.batch(id);
            assertEq(b.owner, handler.ownerAtConsumption(id), "owner of consumed batch");
            assertEq(b.custodian, handler.custodianAtConsumption(id), "custodian of consumed batch");
        }
    }

    /// @notice Every batch's title holder and custodian are consortium members.
    function invariant_OnlyMembersHoldBatches() public view {
        uint256 count = passport.batchCount();
        for (uint256 id = 1; id <= count; ++id) {
            IMineralPassport.Batch memory b = passport.batch(id);
            assertGt(consortium.member(b.owner).joinedAt, 0, "owner is a member");
            assertGt(consortium.member(b.custodian).joinedAt, 0, "custodian is a member");
        }
    }

    /// @notice An attestation is valid exactly when its certifier was accredited when it attested,
    ///         it has not expired and was not revoked (by the handler's own bookkeeping).
    function invariant_AttestationValidOnlyIfAccreditedUnexpiredUnrevoked() public view {
        uint256 n = handler.uidCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 uid = handler.uids(i);
            assertEq(registry.isValid(uid), handler.expectedValid(uid), "attestation validity");
        }
    }

    /// @notice The balances ERC-721 reports add up to the number of batches.
    function invariant_BalancesMatchOwnership() public view {
        uint256 count = passport.batchCount();
        uint256 sum;
        for (uint256 i = 0; i < holders.length; ++i) {
            uint256 owned;
            for (uint256 id = 1; id <= count; ++id) {
                if (passport.ownerOf(id) == holders[i] && passport.batch(id).flags & passport.FLAG_CONSUMED() == 0) {
                    ++owned;
                }
            }
            assertEq(passport.balanceOf(holders[i]), owned, "balance of holder");
            sum += owned;
        }
        assertLe(sum, count);
    }
}
