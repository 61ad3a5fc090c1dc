// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {BaseTest} from "./Base.t.sol";
import {IAttestationRegistry} from "../../contracts/interfaces/IAttestationRegistry.sol";
import {AttestationRegistry} from "../../contracts/AttestationRegistry.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IMineralPassport} from "../../contracts/interfaces/IMineralPassport.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice A certification body's multisig-like wallet: valid when its owner key signed.
contract ContractSigner is IERC1271 {
    address internal immutable _owner;

    constructor(address owner_) {
        _owner = owner_;
    }

    function isValidSignature(bytes32 digest, bytes calldata signature) external view returns (bytes4) {
        (address signer,,) = ECDSA.tryRecover(digest, signature);
        return signer == _owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

contract AttestationRegistryTest is BaseTest {
    uint256 internal batchId;
    uint256 internal facilitySchema;
    uint256 internal memberSchema;
    uint256 internal permanentSchema;

    function setUp() public override {
        super.setUp();
        batchId = _mint(1_000_000, 650_000);
        vm.startPrank(admin);
        facilitySchema = registry.registerSchema("due-diligence-audited", true, uint8(IAttestationRegistry.SubjectKind.FACILITY));
        memberSchema = registry.registerSchema("labour-audit", true, uint8(IAttestationRegistry.SubjectKind.MEMBER));
        permanentSchema = registry.registerSchema("assay", false, uint8(IAttestationRegistry.SubjectKind.BATCH));
        vm.stopPrank();
        uint40 until = uint40(block.timestamp + 365 days);
        _exec(consortium.proposeAccreditation.selector, abi.encode(certifier, facilitySchema, until));
        _exec(consortium.proposeAccreditation.selector, abi.encode(certifier, memberSchema, until));
        _exec(consortium.proposeAccreditation.selector, abi.encode(certifier, permanentSchema, until));
    }

    // ------------------------------------------------------------ deployment

    function test_RevertWhen_DependencyIsNotAContract() public {
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidDependency.selector, address(0)));
        new AttestationRegistry(IConsortium(address(0)), passport);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidDependency.selector, buyer));
        new AttestationRegistry(consortium, IMineralPassport(buyer));
    }

    // ------------------------------------------------------------ schemas

    function test_RegisterSchema() public {
        vm.expectEmit(address(registry));
        emit IAttestationRegistry.SchemaRegistered(5, "environment-audit", false, IAttestationRegistry.SubjectKind.FACILITY);
        vm.prank(admin);
        uint256 id = registry.registerSchema("environment-audit", false, 1);
        assertEq(id, 5);
        IAttestationRegistry.Schema memory s = registry.schema(id);
        assertEq(s.name, "environment-audit");
        assertFalse(s.revocable);
        assertEq(uint8(s.subjectKind), 1);
        assertEq(registry.schemaIdOf("environment-audit"), 5);
        assertEq(registry.schemaIdOf("nope"), 0);
        assertEq(registry.schemaCount(), 5);
    }

    function test_RevertWhen_RegisterSchemaByNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, certifier, Roles.ADMIN));
        vm.prank(certifier);
        registry.registerSchema("x", true, 0);
    }

    function test_RevertWhen_RegisterSchemaBadName() public {
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidSchemaName.selector, ""));
        vm.prank(admin);
        registry.registerSchema("", true, 0);
        string memory long = "0123456789012345678901234567890123456789012345678901234567890123x";
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidSchemaName.selector, long));
        vm.prank(admin);
        registry.registerSchema(long, true, 0);
    }

    function test_RevertWhen_RegisterSchemaTwice() public {
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationSchemaExists.selector, "assay", permanentSchema));
        vm.prank(admin);
        registry.registerSchema("assay", true, 0);
    }

    function test_RevertWhen_RegisterSchemaBadKind() public {
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidSubjectKind.selector, 3));
        vm.prank(admin);
        registry.registerSchema("x", true, 3);
    }

    function test_RevertWhen_SchemaUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationUnknownSchema.selector, 0));
        registry.schema(0);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationUnknownSchema.selector, 99));
        registry.schema(99);
    }

    // ------------------------------------------------------------ attest

    function test_Attest() public {
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        bytes32 expectedUid = registry.attestationDigest(r, certifier, 0);
        vm.expectEmit(address(registry));
        emit IAttestationRegistry.Attested(expectedUid, originSchema, batchId, certifier, r.dataHash, r.expiresAt, r.salt, certifier);
        vm.prank(certifier);
        bytes32 uid = registry.attest(r);
        assertEq(uid, expectedUid);
        IAttestationRegistry.Attestation memory a = registry.attestation(uid);
        assertEq(a.certifier, certifier);
        assertEq(a.schemaId, originSchema);
        assertEq(a.issuedAt, block.timestamp);
        assertEq(a.expiresAt, r.expiresAt);
        assertEq(a.flags, registry.FLAG_REVOCABLE());
        assertTrue(registry.isValid(uid));
    }

    function test_Attest_FacilityAndMemberSubjects() public {
        vm.startPrank(certifier);
        assertTrue(registry.isValid(registry.attest(_request(facilitySchema, mine))));
        assertTrue(registry.isValid(registry.attest(_request(memberSchema, uint256(uint160(miner))))));
        vm.stopPrank();
    }

    function test_Attest_NoExpiry() public {
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        r.expiresAt = 0;
        vm.prank(certifier);
        bytes32 uid = registry.attest(r);
        vm.warp(block.timestamp + 300 days);
        assertTrue(registry.isValid(uid));
    }

    function test_Digest_MatchesEip712() public view {
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Attestation(address certifier,uint256 schemaId,uint256 subject,bytes32 dataHash,uint64 expiresAt,uint64 deadline,bytes32 salt)"
                ),
                certifier,
                r.schemaId,
                r.subject,
                r.dataHash,
                r.expiresAt,
                uint64(123),
                r.salt
            )
        );
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("MineralPassport Attestations"),
                keccak256("1"),
                block.chainid,
                address(registry)
            )
        );
        bytes32 expected = keccak256(abi.encodePacked("\x19\x01", domain, structHash));
        assertEq(registry.attestationDigest(r, certifier, 123), expected);
    }

    function test_RevertWhen_AttestTwice() public {
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        vm.startPrank(certifier);
        bytes32 uid = registry.attest(r);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationExists.selector, uid));
        registry.attest(r);
        r.salt = bytes32(uint256(1)); // a new salt makes a distinct claim
        registry.attest(r);
        vm.stopPrank();
    }

    function test_RevertWhen_AttestNotAccredited() public {
        vm.prank(admin);
        uint256 other = registry.registerSchema("conflict-free", true, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotAccredited.selector, certifier, other));
        vm.prank(certifier);
        registry.attest(_request(other, batchId));
    }

    function test_RevertWhen_AttestByNonCertifier() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.CERTIFIER));
        vm.prank(miner);
        registry.attest(_request(originSchema, batchId));
    }

    function test_RevertWhen_AttestBySanctionedCertifier() public {
        _sanctionMember(certifier);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberSanctioned.selector, certifier));
        vm.prank(certifier);
        registry.attest(_request(originSchema, batchId));
    }

    function test_RevertWhen_AttestUnknownSchema() public {
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationUnknownSchema.selector, 42));
        vm.prank(certifier);
        registry.attest(_request(42, batchId));
    }

    function test_RevertWhen_AttestUnknownSubject() public {
        vm.startPrank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationUnknownSubject.selector, originSchema, 99));
        registry.attest(_request(originSchema, 99));
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationUnknownSubject.selector, originSchema, 0));
        registry.attest(_request(originSchema, 0));
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationUnknownSubject.selector, facilitySchema, 50));
        registry.attest(_request(facilitySchema, 50));
        uint256 stranger = uint256(uint160(outsider));
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationUnknownSubject.selector, memberSchema, stranger));
        registry.attest(_request(memberSchema, stranger));
        uint256 tooWide = uint256(type(uint160).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationUnknownSubject.selector, memberSchema, tooWide));
        registry.attest(_request(memberSchema, tooWide));
        vm.stopPrank();
    }

    function test_RevertWhen_AttestBadExpiry() public {
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        r.expiresAt = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidExpiry.selector, r.expiresAt));
        vm.prank(certifier);
        registry.attest(r);
        r.expiresAt = uint64(type(uint32).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidExpiry.selector, r.expiresAt));
        vm.prank(certifier);
        registry.attest(r);
    }

    // ------------------------------------------------------------ attestBySig

    function test_AttestBySig_RelayedByAnyone() public {
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 digest = registry.attestationDigest(r, certifier, deadline);
        bytes memory sig = _sign(certifierKey, digest);
        vm.expectEmit(address(registry));
        emit IAttestationRegistry.Attested(digest, originSchema, batchId, certifier, r.dataHash, r.expiresAt, r.salt, buyer);
        vm.prank(buyer);
        bytes32 uid = registry.attestBySig(r, certifier, deadline, sig);
        assertEq(uid, digest);
        assertTrue(registry.isValid(uid));
        // The digest is the id: the same signature cannot be replayed.
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationExists.selector, uid));
        vm.prank(miner);
        registry.attestBySig(r, certifier, deadline, sig);
    }

    function test_AttestBySig_Erc1271ContractCertifier() public {
        (address keyHolder, uint256 key) = makeAddrAndKey("certification-body-key");
        ContractSigner body = new ContractSigner(keyHolder);
        _addMember(address(body), Roles.CERTIFIER);
        _exec(consortium.proposeAccreditation.selector, abi.encode(address(body), originSchema, uint40(block.timestamp + 30 days)));
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        uint64 deadline = uint64(block.timestamp + 1 hours);
        bytes memory sig = _sign(key, registry.attestationDigest(r, address(body), deadline));
        vm.prank(buyer);
        bytes32 uid = registry.attestBySig(r, address(body), deadline, sig);
        assertEq(registry.attestation(uid).certifier, address(body));
    }

    function test_RevertWhen_AttestBySigWrongSigner() public {
        (, uint256 otherKey) = makeAddrAndKey("impostor");
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes memory sig = _sign(otherKey, registry.attestationDigest(r, certifier, deadline));
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidSignature.selector, certifier));
        registry.attestBySig(r, certifier, deadline, sig);
    }

    function test_RevertWhen_AttestBySigTamperedClaim() public {
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes memory sig = _sign(certifierKey, registry.attestationDigest(r, certifier, deadline));
        r.dataHash = keccak256("forged report");
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidSignature.selector, certifier));
        registry.attestBySig(r, certifier, deadline, sig);
    }

    function test_RevertWhen_AttestBySigMalformedSignature() public {
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationInvalidSignature.selector, certifier));
        registry.attestBySig(r, certifier, uint64(block.timestamp), hex"1234");
    }

    function test_RevertWhen_AttestBySigPastDeadline() public {
        IAttestationRegistry.AttestationRequest memory r = _request(originSchema, batchId);
        uint64 deadline = uint64(block.timestamp + 1 hours);
        bytes memory sig = _sign(certifierKey, registry.attestationDigest(r, certifier, deadline));
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationSignatureExpired.selector, deadline));
        registry.attestBySig(r, certifier, deadline, sig);
    }

    // ------------------------------------------------------------ revoke and validity

    function test_Revoke() public {
        vm.startPrank(certifier);
        bytes32 uid = registry.attest(_request(originSchema, batchId));
        vm.expectEmit(address(registry));
        emit IAttestationRegistry.AttestationRevoked(uid, certifier, originSchema);
        registry.revoke(uid);
        vm.stopPrank();
        assertFalse(registry.isValid(uid));
        assertEq(registry.attestation(uid).flags & registry.FLAG_REVOKED(), registry.FLAG_REVOKED());
    }

    function test_RevertWhen_RevokeByOther() public {
        vm.prank(certifier);
        bytes32 uid = registry.attest(_request(originSchema, batchId));
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationNotCertifier.selector, uid, admin));
        vm.prank(admin);
        registry.revoke(uid);
    }

    function test_RevertWhen_RevokeIrrevocable() public {
        vm.startPrank(certifier);
        bytes32 uid = registry.attest(_request(permanentSchema, batchId));
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationNotRevocable.selector, uid));
        registry.revoke(uid);
        vm.stopPrank();
    }

    function test_RevertWhen_RevokeTwiceOrUnknown() public {
        vm.startPrank(certifier);
        bytes32 uid = registry.attest(_request(originSchema, batchId));
        registry.revoke(uid);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationAlreadyRevoked.selector, uid));
        registry.revoke(uid);
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationNotFound.selector, bytes32(uint256(7))));
        registry.revoke(bytes32(uint256(7)));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IAttestationRegistry.AttestationNotFound.selector, bytes32(uint256(7))));
        registry.attestation(bytes32(uint256(7)));
    }

    function test_IsValid_FalseAfterExpiry() public {
        vm.prank(certifier);
        bytes32 uid = registry.attest(_request(originSchema, batchId));
        vm.warp(block.timestamp + 180 days - 1);
        assertTrue(registry.isValid(uid));
        vm.warp(block.timestamp + 1);
        assertFalse(registry.isValid(uid));
    }

    function test_IsValid_AccreditationAtIssueTimeCounts() public {
        vm.prank(certifier);
        bytes32 uid = registry.attest(_request(originSchema, batchId));
        vm.warp(block.timestamp + 1 days);
        // The accreditation ends later: what was attested while accredited stays valid.
        _exec(consortium.proposeRevokeAccreditation.selector, abi.encode(certifier, originSchema));
        assertTrue(registry.isValid(uid));
        assertFalse(registry.isValid(bytes32(0)));
        // A later, new accreditation window does not erase the earlier one.
        vm.warp(block.timestamp + 1 days);
        _exec(consortium.proposeAccreditation.selector, abi.encode(certifier, originSchema, uint40(block.timestamp + 30 days)));
        assertEq(consortium.accreditationHistory(certifier, originSchema).length, 2);
        assertTrue(registry.isValid(uid));
    }

    function test_IsValid_FalseWhenIssuedInAGap() public {
        vm.warp(block.timestamp + 1 days);
        _exec(consortium.proposeRevokeAccreditation.selector, abi.encode(certifier, originSchema));
        // Not accredited now: attesting is refused outright.
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotAccredited.selector, certifier, originSchema));
        vm.prank(certifier);
        registry.attest(_request(originSchema, batchId));
    }
}
