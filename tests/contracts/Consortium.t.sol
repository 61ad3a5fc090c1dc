// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./Base.t.sol";
import {Consortium} from "../../contracts/Consortium.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

contract ConsortiumTest is BaseTest {
    address internal admin2 = makeAddr("admin2");
    address internal admin3 = makeAddr("admin3");
    address internal newcomer = makeAddr("newcomer");

    // ------------------------------------------------------------ constructor

    function test_Constructor_RegistersFoundersAndThreshold() public view {
        IConsortium.Member memory m = consortium.member(miner);
        assertEq(m.roles, Roles.MINER);
        assertTrue(m.active);
        assertFalse(m.sanctioned);
        assertEq(m.jurisdiction, bytes2("VN"));
        assertEq(m.joinedAt, 1_800_000_000);
        assertEq(consortium.threshold(), 1);
        assertEq(consortium.activeAdminCount(), 1);
    }

    function test_RevertWhen_ConstructorThresholdAboveAdmins() public {
        IConsortium.MemberInit[] memory f = new IConsortium.MemberInit[](1);
        f[0] = IConsortium.MemberInit(admin, Roles.ADMIN, "VN");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 2, 1));
        new Consortium(f, 2);
    }

    function test_RevertWhen_ConstructorThresholdZero() public {
        IConsortium.MemberInit[] memory f = new IConsortium.MemberInit[](1);
        f[0] = IConsortium.MemberInit(admin, Roles.ADMIN, "VN");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 0, 1));
        new Consortium(f, 0);
    }

    function test_RevertWhen_ConstructorDuplicateFounder() public {
        IConsortium.MemberInit[] memory f = new IConsortium.MemberInit[](2);
        f[0] = IConsortium.MemberInit(admin, Roles.ADMIN, "VN");
        f[1] = IConsortium.MemberInit(admin, Roles.MINER, "VN");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyMember.selector, admin));
        new Consortium(f, 1);
    }

    // ------------------------------------------------------------ members

    function test_AddMember() public {
        vm.prank(admin);
        uint256 id = consortium.proposeAddMember(newcomer, Roles.TRADER | Roles.BUYER, "US");
        vm.expectEmit(address(consortium));
        emit IConsortium.MemberAdded(newcomer, Roles.TRADER | Roles.BUYER, "US");
        vm.expectEmit(address(consortium));
        emit IConsortium.ProposalExecuted(id, admin);
        vm.prank(admin);
        consortium.execute(id);
        assertEq(consortium.member(newcomer).roles, Roles.TRADER | Roles.BUYER);
        assertTrue(consortium.transactionAllowed(newcomer, address(0), 0, 0, 0, ""));
    }

    function test_RevertWhen_ProposerNotAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.ADMIN));
        vm.prank(miner);
        consortium.proposeAddMember(newcomer, Roles.TRADER, "US");
    }

    function test_RevertWhen_ProposerNotMember() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, outsider));
        vm.prank(outsider);
        consortium.proposeAddMember(newcomer, Roles.TRADER, "US");
    }

    function test_RevertWhen_AddMemberZeroAddress() public {
        vm.expectRevert(IConsortium.ConsortiumZeroAddress.selector);
        vm.prank(admin);
        consortium.proposeAddMember(address(0), Roles.TRADER, "US");
    }

    function test_RevertWhen_AddMemberExisting() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyMember.selector, miner));
        vm.prank(admin);
        consortium.proposeAddMember(miner, Roles.TRADER, "US");
    }

    function test_RevertWhen_AddMemberNoRoles() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidRoles.selector, 0));
        vm.prank(admin);
        consortium.proposeAddMember(newcomer, 0, "US");
    }

    function test_RevertWhen_AddMemberBadCountry() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidCountry.selector, bytes2("vn")));
        vm.prank(admin);
        consortium.proposeAddMember(newcomer, Roles.TRADER, "vn");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidCountry.selector, bytes2(0)));
        vm.prank(admin);
        consortium.proposeAddMember(newcomer, Roles.TRADER, bytes2(0));
    }

    function test_SetRoles() public {
        uint256 pid = _propose(consortium.proposeSetRoles.selector, abi.encode(miner, Roles.MINER | Roles.TRADER));
        vm.expectEmit(address(consortium));
        emit IConsortium.MemberRolesChanged(miner, Roles.MINER, Roles.MINER | Roles.TRADER);
        _execute(pid);
        assertEq(consortium.member(miner).roles, Roles.MINER | Roles.TRADER);
    }

    function test_RevertWhen_SetRolesUnchanged() public {
        vm.expectRevert(IConsortium.ConsortiumNoChange.selector);
        vm.prank(admin);
        consortium.proposeSetRoles(miner, Roles.MINER);
    }

    function test_RevertWhen_SetRolesUnknownMember() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, outsider));
        vm.prank(admin);
        consortium.proposeSetRoles(outsider, Roles.MINER);
    }

    function test_RevertWhen_SetRolesEmpty() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidRoles.selector, 0));
        vm.prank(admin);
        consortium.proposeSetRoles(miner, 0);
    }

    function test_RevertWhen_RemovingLastAdminRole() public {
        vm.prank(admin);
        uint256 id = consortium.proposeSetRoles(admin, Roles.REGULATOR);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumThresholdUnreachable.selector, 1, 0));
        vm.prank(admin);
        consortium.execute(id);
    }

    function test_SetActive() public {
        uint256 pid = _propose(consortium.proposeSetActive.selector, abi.encode(buyer, false));
        vm.expectEmit(address(consortium));
        emit IConsortium.MemberActiveChanged(buyer, false);
        _execute(pid);
        assertFalse(consortium.member(buyer).active);
        assertFalse(consortium.transactionAllowed(buyer, address(0), 0, 0, 0, ""));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberInactive.selector, buyer));
        consortium.requireMember(buyer, 0);
    }

    function test_RevertWhen_SetActiveUnchanged() public {
        vm.expectRevert(IConsortium.ConsortiumNoChange.selector);
        vm.prank(admin);
        consortium.proposeSetActive(buyer, true);
    }

    function test_MemberSanction_MirrorsOntoOperatedFacilities() public {
        assertFalse(consortium.isFacilityFlagged(mine));
        uint256 pid = _propose(consortium.proposeMemberSanction.selector, abi.encode(miner, true));
        vm.expectEmit(address(consortium));
        emit IConsortium.MemberSanctionChanged(miner, true);
        _execute(pid);
        assertTrue(consortium.member(miner).sanctioned);
        assertTrue(consortium.isFacilityFlagged(mine));
        assertTrue(consortium.facility(mine).operatorSanctioned);
        assertFalse(consortium.transactionAllowed(miner, address(0), 0, 0, 0, ""));
        _exec(consortium.proposeMemberSanction.selector, abi.encode(miner, false));
        assertFalse(consortium.isFacilityFlagged(mine));
    }

    function test_FacilityOfSanctionedOperatorStartsFlagged() public {
        _sanctionMember(miner);
        uint32 second = _addFacility(miner, "VN", IConsortium.FacilityKind.MINE);
        assertTrue(consortium.isFacilityFlagged(second));
    }

    function test_RevertWhen_SanctionUnchanged() public {
        vm.expectRevert(IConsortium.ConsortiumNoChange.selector);
        vm.prank(admin);
        consortium.proposeMemberSanction(miner, false);
    }

    // ------------------------------------------------------------ facilities

    function test_AddFacility() public {
        vm.prank(admin);
        uint256 id = consortium.proposeAddFacility(miner, "VN", uint8(IConsortium.FacilityKind.CONCENTRATOR), bytes32("loc"));
        vm.expectEmit(address(consortium));
        emit IConsortium.FacilityAdded(5, miner, "VN", IConsortium.FacilityKind.CONCENTRATOR, bytes32("loc"));
        vm.prank(admin);
        consortium.execute(id);
        IConsortium.Facility memory f = consortium.facility(5);
        assertEq(f.operator, miner);
        assertEq(f.country, bytes2("VN"));
        assertEq(uint8(f.kind), uint8(IConsortium.FacilityKind.CONCENTRATOR));
        assertEq(f.recordRoot, bytes32("loc"));
        assertEq(consortium.facilityCount(), 5);
    }

    function test_RevertWhen_AddFacilityBadKind() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidFacilityKind.selector, 7));
        vm.prank(admin);
        consortium.proposeAddFacility(miner, "VN", 7, 0);
    }

    function test_RevertWhen_AddFacilityOperatorNotMember() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, outsider));
        vm.prank(admin);
        consortium.proposeAddFacility(outsider, "VN", 0, 0);
    }

    function test_RevertWhen_AddFacilityBadCountry() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidCountry.selector, bytes2("V1")));
        vm.prank(admin);
        consortium.proposeAddFacility(miner, "V1", 0, 0);
    }

    function test_FacilitySanction() public {
        uint256 pid = _propose(consortium.proposeFacilitySanction.selector, abi.encode(mine, true));
        vm.expectEmit(address(consortium));
        emit IConsortium.FacilitySanctionChanged(mine, true);
        _execute(pid);
        assertTrue(consortium.isFacilityFlagged(mine));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumFacilitySanctioned.selector, mine));
        consortium.requireTransfer(miner, refiner, mine);
    }

    function test_RevertWhen_FacilitySanctionUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownFacility.selector, 99));
        vm.prank(admin);
        consortium.proposeFacilitySanction(99, true);
    }

    function test_RevertWhen_FacilitySanctionUnchanged() public {
        vm.expectRevert(IConsortium.ConsortiumNoChange.selector);
        vm.prank(admin);
        consortium.proposeFacilitySanction(mine, false);
    }

    function test_RevertWhen_FacilityViewUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownFacility.selector, 0));
        consortium.facility(0);
    }

    // ------------------------------------------------------------ records

    function test_SetProfileRoot() public {
        assertEq(consortium.profileRoot(miner), bytes32(0));
        vm.expectEmit(address(consortium));
        emit IConsortium.MemberProfileChanged(miner, bytes32("profile-1"));
        vm.prank(miner);
        consortium.setProfileRoot(bytes32("profile-1"));
        assertEq(consortium.profileRoot(miner), bytes32("profile-1"));
        assertEq(consortium.profileRoot(refiner), bytes32(0));
        vm.prank(miner);
        consortium.setProfileRoot(bytes32("profile-2"));
        assertEq(consortium.profileRoot(miner), bytes32("profile-2"));
    }

    function test_RevertWhen_SetProfileRootNotMember() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, outsider));
        vm.prank(outsider);
        consortium.setProfileRoot(bytes32("x"));
    }

    function test_RevertWhen_SetProfileRootSanctioned() public {
        _sanctionMember(miner);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberSanctioned.selector, miner));
        vm.prank(miner);
        consortium.setProfileRoot(bytes32("x"));
    }

    function test_SetFacilityRecord() public {
        vm.expectEmit(address(consortium));
        emit IConsortium.FacilityRecordChanged(mine, miner, bytes32("record-2"));
        vm.prank(miner);
        consortium.setFacilityRecord(mine, bytes32("record-2"));
        IConsortium.Facility memory f = consortium.facility(mine);
        assertEq(f.recordRoot, bytes32("record-2"));
        assertEq(f.operator, miner);
        assertEq(f.country, bytes2("VN"));
    }

    function test_RevertWhen_SetFacilityRecordNotOperator() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotOperator.selector, mine, refiner));
        vm.prank(refiner);
        consortium.setFacilityRecord(mine, bytes32("x"));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownFacility.selector, 42));
        vm.prank(miner);
        consortium.setFacilityRecord(42, bytes32("x"));
    }

    // ------------------------------------------------------------ devices

    function test_RegisterAndRevokeDevice() public {
        address sensor = makeAddr("scale-01");
        vm.expectEmit(address(consortium));
        emit IConsortium.DeviceRegistered(sensor, mine);
        vm.prank(miner);
        consortium.registerDevice(sensor, mine);
        IConsortium.Device memory d = consortium.device(sensor);
        assertEq(d.facilityId, mine);
        assertTrue(d.active);
        vm.expectEmit(address(consortium));
        emit IConsortium.DeviceRevoked(sensor, mine);
        vm.prank(miner);
        consortium.revokeDevice(sensor);
        assertFalse(consortium.device(sensor).active);
    }

    function test_RevertWhen_RegisterDeviceNotOperator() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotOperator.selector, mine, refiner));
        vm.prank(refiner);
        consortium.registerDevice(makeAddr("scale"), mine);
    }

    function test_RevertWhen_RegisterDeviceTwice() public {
        address sensor = makeAddr("scale-01");
        vm.startPrank(miner);
        consortium.registerDevice(sensor, mine);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumDeviceExists.selector, sensor));
        consortium.registerDevice(sensor, mine);
        vm.stopPrank();
    }

    function test_RevertWhen_RegisterDeviceZero() public {
        vm.expectRevert(IConsortium.ConsortiumZeroAddress.selector);
        vm.prank(miner);
        consortium.registerDevice(address(0), mine);
    }

    function test_RevertWhen_RegisterDeviceUnknownFacility() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownFacility.selector, 42));
        vm.prank(miner);
        consortium.registerDevice(makeAddr("scale"), 42);
    }

    function test_RevertWhen_RevokeUnknownDevice() public {
        address sensor = makeAddr("scale-01");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownDevice.selector, sensor));
        vm.prank(miner);
        consortium.revokeDevice(sensor);
    }

    function test_RevertWhen_RevokeDeviceNotOperator() public {
        address sensor = makeAddr("scale-01");
        vm.prank(miner);
        consortium.registerDevice(sensor, mine);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotOperator.selector, mine, refiner));
        vm.prank(refiner);
        consortium.revokeDevice(sensor);
    }

    // ------------------------------------------------------------ telemetry anchors

    function test_AnchorTelemetry_ByOperatorAndByGateway() public {
        bytes32 root = keccak256("window 1");
        vm.warp(1_800_000_100);
        vm.expectEmit(address(consortium));
        emit IConsortium.TelemetryAnchored(mine, root, miner, 10, 1_800_000_000, 1_800_000_060);
        vm.prank(miner);
        consortium.anchorTelemetry(mine, root, 10, 1_800_000_000, 1_800_000_060);
        IConsortium.TelemetryAnchor memory a = consortium.telemetryAnchor(root);
        assertEq(a.facilityId, mine);
        assertEq(a.count, 10);
        assertEq(a.fromTime, 1_800_000_000);
        assertEq(a.toTime, 1_800_000_060);
        assertEq(a.anchoredAt, 1_800_000_100);
        address gateway = makeAddr("gateway");
        vm.prank(miner);
        consortium.registerDevice(gateway, mine);
        vm.prank(gateway);
        consortium.anchorTelemetry(mine, keccak256("window 2"), 1, 5, 5);
        assertEq(consortium.telemetryAnchor(keccak256("window 2")).count, 1);
        assertEq(consortium.telemetryAnchor(keccak256("never")).anchoredAt, 0);
    }

    function test_RevertWhen_AnchorTelemetryTwice() public {
        bytes32 root = keccak256("window");
        vm.startPrank(miner);
        consortium.anchorTelemetry(mine, root, 1, 1, 2);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumTelemetryAnchored.selector, root));
        consortium.anchorTelemetry(mine, root, 1, 1, 2);
        vm.stopPrank();
    }

    function test_RevertWhen_AnchorTelemetryBadWindow() public {
        vm.startPrank(miner);
        vm.expectRevert(IConsortium.ConsortiumBadTelemetryWindow.selector);
        consortium.anchorTelemetry(mine, bytes32(0), 1, 1, 2);
        vm.expectRevert(IConsortium.ConsortiumBadTelemetryWindow.selector);
        consortium.anchorTelemetry(mine, keccak256("w"), 0, 1, 2);
        vm.expectRevert(IConsortium.ConsortiumBadTelemetryWindow.selector);
        consortium.anchorTelemetry(mine, keccak256("w"), 1, 3, 2);
        vm.stopPrank();
    }

    function test_RevertWhen_AnchorTelemetryByStrangerOrOtherFacilitysDevice() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, makeAddr("stranger")));
        vm.prank(makeAddr("stranger"));
        consortium.anchorTelemetry(mine, keccak256("w"), 1, 1, 2);
        address gateway = makeAddr("gateway");
        vm.prank(miner);
        consortium.registerDevice(gateway, mine);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, gateway));
        vm.prank(gateway);
        consortium.anchorTelemetry(mine + 1, keccak256("w"), 1, 1, 2);
        vm.prank(miner);
        consortium.revokeDevice(gateway);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, gateway));
        vm.prank(gateway);
        consortium.anchorTelemetry(mine, keccak256("w"), 1, 1, 2);
    }

    // ------------------------------------------------------------ accreditation

    function test_Accreditation_WindowAndRevocation() public {
        IConsortium.Accreditation memory a = consortium.accreditation(certifier, originSchema);
        assertEq(a.validFrom, block.timestamp);
        assertEq(a.validUntil, block.timestamp + 365 days);
        assertTrue(consortium.isAccredited(certifier, originSchema, block.timestamp));
        assertFalse(consortium.isAccredited(certifier, originSchema, block.timestamp - 1));
        consortium.requireAccredited(certifier, originSchema);

        vm.warp(block.timestamp + 10 days);
        uint256 pid = _propose(consortium.proposeRevokeAccreditation.selector, abi.encode(certifier, originSchema));
        vm.expectEmit(address(consortium));
        emit IConsortium.AccreditationRevoked(certifier, originSchema, uint40(block.timestamp));
        _execute(pid);
        assertTrue(consortium.isAccredited(certifier, originSchema, block.timestamp - 1));
        assertFalse(consortium.isAccredited(certifier, originSchema, block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotAccredited.selector, certifier, originSchema));
        consortium.requireAccredited(certifier, originSchema);
    }

    function test_Accreditation_ExtensionKeepsStart() public {
        uint40 start = consortium.accreditation(certifier, originSchema).validFrom;
        vm.warp(block.timestamp + 30 days);
        _exec(consortium.proposeAccreditation.selector, abi.encode(certifier, originSchema, uint40(block.timestamp + 700 days)));
        assertEq(consortium.accreditation(certifier, originSchema).validFrom, start);
    }

    function test_RevertWhen_AccreditNonCertifier() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.CERTIFIER));
        vm.prank(admin);
        consortium.proposeAccreditation(miner, originSchema, uint40(block.timestamp + 1 days));
    }

    function test_RevertWhen_AccreditInPast() public {
        uint40 until = uint40(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidAccreditationWindow.selector, until));
        vm.prank(admin);
        consortium.proposeAccreditation(certifier, originSchema, until);
    }

    function test_RevertWhen_RevokeAccreditationNone() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotAccredited.selector, certifier, 77));
        vm.prank(admin);
        consortium.proposeRevokeAccreditation(certifier, 77);
    }

    function test_RevertWhen_RequireAccreditedNotCertifier() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.CERTIFIER));
        consortium.requireAccredited(miner, originSchema);
    }

    // ------------------------------------------------------------ M-of-N

    function _twoOfThree() internal {
        _addMember(admin2, Roles.ADMIN);
        _addMember(admin3, Roles.ADMIN);
        _exec(consortium.proposeThreshold.selector, abi.encode(uint256(2)));
        assertEq(consortium.threshold(), 2);
        assertEq(consortium.activeAdminCount(), 3);
    }

    function test_TwoOfThree_NeedsSecondApproval() public {
        _twoOfThree();
        vm.prank(admin);
        uint256 id = consortium.proposeAddMember(newcomer, Roles.BUYER, "DE");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotEnoughApprovals.selector, id, 1, 2));
        vm.prank(admin);
        consortium.execute(id);

        vm.expectEmit(address(consortium));
        emit IConsortium.ProposalApproved(id, admin2);
        vm.prank(admin2);
        consortium.approve(id);
        vm.prank(admin3);
        consortium.execute(id);
        assertTrue(consortium.member(newcomer).active);
        IConsortium.Proposal memory p = consortium.proposal(id);
        assertTrue(p.executed);
        assertEq(p.approvers.length, 2);
        assertEq(p.proposer, admin);
    }

    function test_TwoOfThree_ApprovalOfRemovedAdminNoLongerCounts() public {
        _twoOfThree();
        vm.prank(admin);
        uint256 id = consortium.proposeAddMember(newcomer, Roles.BUYER, "DE");
        vm.prank(admin2);
        consortium.approve(id);
        // admin2 is sanctioned before execution: its approval stops counting.
        vm.prank(admin);
        uint256 sanction = consortium.proposeMemberSanction(admin2, true);
        vm.prank(admin3);
        consortium.approve(sanction);
        vm.prank(admin);
        consortium.execute(sanction);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotEnoughApprovals.selector, id, 1, 2));
        vm.prank(admin);
        consortium.execute(id);
    }

    function test_GrantingAdminRoleCountsTowardsThreshold() public {
        _exec(consortium.proposeSetRoles.selector, abi.encode(regulator, Roles.REGULATOR | Roles.ADMIN));
        assertEq(consortium.activeAdminCount(), 2);
        _exec(consortium.proposeThreshold.selector, abi.encode(uint256(2)));
        assertEq(consortium.proposalCount(), 7); // 4 facilities and an accreditation in setUp, then these two
        assertEq(consortium.threshold(), 2);
    }

    function test_RevertWhen_ApproveTwice() public {
        _twoOfThree();
        vm.prank(admin);
        uint256 id = consortium.proposeAddMember(newcomer, Roles.BUYER, "DE");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyApproved.selector, id, admin));
        vm.prank(admin);
        consortium.approve(id);
    }

    function test_RevertWhen_ExecuteTwice() public {
        uint256 id = _exec(consortium.proposeAddMember.selector, abi.encode(newcomer, Roles.BUYER, bytes2("DE")));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumProposalAlreadyExecuted.selector, id));
        vm.prank(admin);
        consortium.execute(id);
    }

    function test_RevertWhen_UnknownProposal() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownProposal.selector, 999));
        vm.prank(admin);
        consortium.approve(999);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownProposal.selector, 0));
        consortium.proposal(0);
    }

    function test_RevertWhen_ExecuteByNonAdmin() public {
        vm.prank(admin);
        uint256 id = consortium.proposeAddMember(newcomer, Roles.BUYER, "DE");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.ADMIN));
        vm.prank(miner);
        consortium.execute(id);
    }

    function test_RevertWhen_ExecuteStaleProposal() public {
        vm.prank(admin);
        uint256 first = consortium.proposeAddMember(newcomer, Roles.BUYER, "DE");
        vm.prank(admin);
        uint256 second = consortium.proposeAddMember(newcomer, Roles.TRADER, "DE");
        vm.prank(admin);
        consortium.execute(first);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyMember.selector, newcomer));
        vm.prank(admin);
        consortium.execute(second);
    }

    function test_RevertWhen_ThresholdInvalid() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 2, 1));
        vm.prank(admin);
        consortium.proposeThreshold(2);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 0, 1));
        vm.prank(admin);
        consortium.proposeThreshold(0);
        vm.expectRevert(IConsortium.ConsortiumNoChange.selector);
        vm.prank(admin);
        consortium.proposeThreshold(1);
    }

    function test_RevertWhen_DeactivatingAdminBelowThreshold() public {
        _twoOfThree();
        vm.prank(admin);
        uint256 a = consortium.proposeSetActive(admin2, false);
        vm.prank(admin3);
        consortium.approve(a);
        vm.prank(admin);
        consortium.execute(a);
        assertEq(consortium.activeAdminCount(), 2);
        vm.prank(admin);
        uint256 b = consortium.proposeSetActive(admin3, false);
        vm.prank(admin3);
        consortium.approve(b);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumThresholdUnreachable.selector, 2, 1));
        vm.prank(admin);
        consortium.execute(b);
    }

    // ------------------------------------------------------------ checks used by other contracts

    function test_TransactionAllowed() public view {
        assertTrue(consortium.transactionAllowed(miner, address(passport), 0, 1 gwei, 100_000, hex"00"));
        assertFalse(consortium.transactionAllowed(outsider, address(passport), 0, 1 gwei, 100_000, hex"00"));
    }

    function test_RequireOperator() public view {
        (bytes2 country, IConsortium.FacilityKind kind) = consortium.requireOperator(miner, mine, Roles.MINER);
        assertEq(country, bytes2("VN"));
        assertEq(uint8(kind), uint8(IConsortium.FacilityKind.MINE));
    }

    function test_RevertWhen_RequireOperatorWrongRole() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.PROCESSOR));
        consortium.requireOperator(miner, mine, Roles.PROCESSOR);
    }

    function test_RevertWhen_RequireOperatorSanctionedFacility() public {
        _sanctionFacility(mine);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumFacilitySanctioned.selector, mine));
        consortium.requireOperator(miner, mine, Roles.MINER);
    }

    function test_RevertWhen_RequireTransferParty() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, outsider));
        consortium.requireTransfer(miner, outsider, mine);
        _sanctionMember(buyer);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberSanctioned.selector, buyer));
        consortium.requireTransfer(buyer, miner, mine);
        _exec(consortium.proposeSetActive.selector, abi.encode(carrier, false));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberInactive.selector, carrier));
        consortium.requireTransfer(miner, carrier, mine);
    }

    // ------------------------------------------------------------ validators

    bytes32 internal constant VAL_KEY = keccak256("validator-key");

    function test_SetValidator_AddReweightRemove() public {
        uint256 pid = _propose(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, refiner, uint64(10)));
        vm.expectEmit(true, true, false, true, address(consortium));
        emit IConsortium.ValidatorSet(VAL_KEY, refiner, 10);
        _execute(pid);
        IConsortium.Validator memory v = consortium.validator(VAL_KEY);
        assertEq(v.account, refiner);
        assertEq(v.power, 10);
        _exec(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, refiner, uint64(25)));
        assertEq(consortium.validator(VAL_KEY).power, 25);
        _exec(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, refiner, uint64(0)));
        assertEq(consortium.validator(VAL_KEY).power, 0);
        bytes32[] memory keys = consortium.validatorKeys();
        assertEq(keys.length, 1);
        assertEq(keys[0], VAL_KEY);
    }

    function test_SetValidator_RemovesAKeyNeverRegistered() public {
        // a genesis validator, bound to a member off-chain, is removed by power 0
        _exec(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, miner, uint64(0)));
        assertEq(consortium.validator(VAL_KEY).account, miner);
        assertEq(consortium.validatorKeys().length, 1);
    }

    function test_RevertWhen_SetValidatorForSanctionedMember() public {
        _sanctionMember(refiner);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberSanctioned.selector, refiner));
        _propose(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, refiner, uint64(10)));
    }

    function test_RevertWhen_SetValidatorForInactiveMember() public {
        _exec(consortium.proposeSetActive.selector, abi.encode(refiner, false));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberInactive.selector, refiner));
        _propose(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, refiner, uint64(10)));
    }

    function test_RevertWhen_SetValidatorForNonMember() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, outsider));
        _propose(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, outsider, uint64(10)));
    }

    function test_RevertWhen_SetValidatorZeroKeyOrPowerAboveCap() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidValidator.selector, bytes32(0), 10));
        _propose(consortium.proposeSetValidator.selector, abi.encode(bytes32(0), refiner, uint64(10)));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidValidator.selector, VAL_KEY, 1_000_001));
        _propose(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, refiner, uint64(1_000_001)));
    }

    function test_RevertWhen_SetValidatorUnchanged() public {
        _exec(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, refiner, uint64(10)));
        vm.expectRevert(IConsortium.ConsortiumNoChange.selector);
        _propose(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, refiner, uint64(10)));
    }

    function test_RevertWhen_SetValidatorMemberSanctionedBeforeExecution() public {
        uint256 pid = _propose(consortium.proposeSetValidator.selector, abi.encode(VAL_KEY, refiner, uint64(10)));
        _sanctionMember(refiner);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberSanctioned.selector, refiner));
        _execute(pid);
    }
}
