// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";

import {AttestationRegistry} from "../../contracts/AttestationRegistry.sol";
import {Consortium} from "../../contracts/Consortium.sol";
import {MineralPassport} from "../../contracts/MineralPassport.sol";
import {IAttestationRegistry} from "../../contracts/interfaces/IAttestationRegistry.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IMineralPassport} from "../../contracts/interfaces/IMineralPassport.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice A small tungsten consortium shared by the contract tests: one admin (1-of-1), a mine,
///         a carrier, a refinery, a converter, a recycler, a certifier, a regulator and a buyer.
abstract contract BaseTest is Test {
    uint16 internal constant MASS_TOL_BPS = 50; // 0.5 %
    uint16 internal constant ASSAY_TOL_BPS = 100; // 1 %

    Consortium internal consortium;
    MineralPassport internal passport;
    AttestationRegistry internal registry;

    address internal admin = makeAddr("admin");
    address internal miner = makeAddr("miner");
    address internal carrier = makeAddr("carrier");
    address internal refiner = makeAddr("refiner");
    address internal converter = makeAddr("converter");
    address internal recycler = makeAddr("recycler");
    address internal certifier;
    uint256 internal certifierKey;
    address internal regulator = makeAddr("regulator");
    address internal buyer = makeAddr("buyer");
    address internal outsider = makeAddr("outsider");

    uint32 internal mine;
    uint32 internal refinery;
    uint32 internal plant;
    uint32 internal recycling;
    uint256 internal originSchema;

    function setUp() public virtual {
        vm.warp(1_800_000_000);
        (certifier, certifierKey) = makeAddrAndKey("certifier");
        IConsortium.MemberInit[] memory founders = new IConsortium.MemberInit[](9);
        founders[0] = IConsortium.MemberInit(admin, Roles.ADMIN, "VN");
        founders[1] = IConsortium.MemberInit(miner, Roles.MINER, "VN");
        founders[2] = IConsortium.MemberInit(carrier, Roles.CARRIER, "VN");
        founders[3] = IConsortium.MemberInit(refiner, Roles.PROCESSOR, "VN");
        founders[4] = IConsortium.MemberInit(converter, Roles.PROCESSOR, "JP");
        founders[5] = IConsortium.MemberInit(recycler, Roles.PROCESSOR, "DE");
        founders[6] = IConsortium.MemberInit(certifier, Roles.CERTIFIER, "CH");
        founders[7] = IConsortium.MemberInit(regulator, Roles.REGULATOR, "VN");
        founders[8] = IConsortium.MemberInit(buyer, Roles.BUYER, "NL");
        consortium = new Consortium(founders, 1);
        passport = new MineralPassport(consortium, MASS_TOL_BPS, ASSAY_TOL_BPS, "https://passport.example/batch/");
        registry = new AttestationRegistry(consortium, passport);

        mine = _addFacility(miner, "VN", IConsortium.FacilityKind.MINE);
        refinery = _addFacility(refiner, "VN", IConsortium.FacilityKind.REFINERY);
        plant = _addFacility(converter, "JP", IConsortium.FacilityKind.CONVERTER);
        recycling = _addFacility(recycler, "DE", IConsortium.FacilityKind.RECYCLER);

        vm.prank(admin);
        originSchema = registry.registerSchema("origin-verified", true, uint8(IAttestationRegistry.SubjectKind.BATCH));
        _exec(consortium.proposeAccreditation.selector, abi.encode(certifier, originSchema, uint40(block.timestamp + 365 days)));
    }

    // ----------------------------------------------------------------- helpers

    /// @dev Proposes and executes (threshold 1) a consortium change as the admin.
    function _exec(bytes4 selector, bytes memory args) internal returns (uint256 proposalId) {
        proposalId = _propose(selector, args);
        vm.prank(admin);
        consortium.execute(proposalId);
    }

    /// @dev Proposes a consortium change as the admin, bubbling up its revert.
    function _propose(bytes4 selector, bytes memory args) internal returns (uint256 proposalId) {
        vm.prank(admin);
        (bool ok, bytes memory ret) = address(consortium).call(abi.encodePacked(selector, args));
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        proposalId = abi.decode(ret, (uint256));
    }

    function _execute(uint256 proposalId) internal {
        vm.prank(admin);
        consortium.execute(proposalId);
    }

    function _addFacility(address operator, bytes2 country, IConsortium.FacilityKind kind)
        internal
        returns (uint32 facilityId)
    {
        _exec(
            consortium.proposeAddFacility.selector,
            abi.encode(operator, country, uint8(kind), keccak256(abi.encode(operator, kind)))
        );
        facilityId = consortium.facilityCount();
    }

    function _addMember(address account, uint8 roles) internal {
        _exec(consortium.proposeAddMember.selector, abi.encode(account, roles, bytes2("VN")));
    }

    function _sanctionMember(address account) internal {
        _exec(consortium.proposeMemberSanction.selector, abi.encode(account, true));
    }

    function _sanctionFacility(uint32 facilityId) internal {
        _exec(consortium.proposeFacilitySanction.selector, abi.encode(facilityId, true));
    }

    function _mint(uint64 massGrams, uint24 gradePpm) internal returns (uint256 batchId) {
        vm.prank(miner);
        batchId = passport.mint(mine, uint8(IMineralPassport.Stage.CONCENTRATE), massGrams, gradePpm, keccak256("docs"));
    }

    /// @dev Mints concentrate at the mine and hands it (title and custody) to `to`.
    function _mintTo(address to, uint64 massGrams, uint24 gradePpm) internal returns (uint256 batchId) {
        batchId = _mint(massGrams, gradePpm);
        vm.prank(miner);
        passport.offer(batchId, to);
        vm.prank(to);
        passport.accept(batchId, massGrams);
    }

    function _output(IMineralPassport.Stage stage, uint64 massGrams, uint24 gradePpm)
        internal
        pure
        returns (IMineralPassport.ProcessOutput memory)
    {
        return IMineralPassport.ProcessOutput(uint8(stage), massGrams, gradePpm, bytes32(0));
    }

    function _one(uint256 id) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = id;
    }

    function _outputs1(IMineralPassport.ProcessOutput memory o)
        internal
        pure
        returns (IMineralPassport.ProcessOutput[] memory outs)
    {
        outs = new IMineralPassport.ProcessOutput[](1);
        outs[0] = o;
    }

    function _request(uint256 schemaId, uint256 subject) internal view returns (IAttestationRegistry.AttestationRequest memory) {
        return IAttestationRegistry.AttestationRequest({
            schemaId: schemaId,
            subject: subject,
            dataHash: keccak256("audit report"),
            expiresAt: uint64(block.timestamp + 180 days),
            salt: bytes32(0)
        });
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}
