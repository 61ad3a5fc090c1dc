// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {BaseTest} from "./Base.t.sol";
import {MineralPassport} from "../../contracts/MineralPassport.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IMineralPassport} from "../../contracts/interfaces/IMineralPassport.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

contract Receiver is IERC721Receiver {
    bool internal immutable _accept;

    constructor(bool accept_) {
        _accept = accept_;
    }

    function onERC721Received(address, address, uint256, bytes calldata) external view returns (bytes4) {
        return _accept ? IERC721Receiver.onERC721Received.selector : bytes4(0xdeadbeef);
    }
}

contract MineralPassportTest is BaseTest {
    uint64 internal constant MASS = 1_000_000; // 1 t
    uint24 internal constant GRADE = 650_000; // 65 % W (WO3 concentrate)

    // ------------------------------------------------------------ deployment

    function test_RevertWhen_ConsortiumIsNotAContract() public {
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidConsortium.selector, address(0)));
        new MineralPassport(IConsortium(address(0)), 0, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidConsortium.selector, miner));
        new MineralPassport(IConsortium(miner), 0, 0, "");
    }

    function test_RevertWhen_ToleranceAboveHundredPercent() public {
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidTolerance.selector, 10_001));
        new MineralPassport(consortium, 10_001, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidTolerance.selector, 10_001));
        new MineralPassport(consortium, 0, 10_001, "");
    }

    // ------------------------------------------------------------ mint

    function test_Mint_RecordsOriginAndOwner() public {
        vm.expectEmit(address(passport));
        emit IERC721.Transfer(address(0), miner, 1);
        vm.expectEmit(address(passport));
        emit IMineralPassport.BatchMinted(
            1, miner, mine, IMineralPassport.Stage.CONCENTRATE, MASS, GRADE, "VN", keccak256("docs")
        );
        uint256 id = _mint(MASS, GRADE);
        assertEq(id, 1);
        IMineralPassport.Batch memory b = passport.batch(id);
        assertEq(b.owner, miner);
        assertEq(b.custodian, miner);
        assertEq(uint8(b.stage), uint8(IMineralPassport.Stage.CONCENTRATE));
        assertEq(b.massGrams, MASS);
        assertEq(b.gradePpm, GRADE);
        assertEq(b.facilityId, mine);
        assertEq(b.country, bytes2("VN"));
        assertEq(b.contentHash, keccak256("docs"));
        assertEq(b.flags, 0);
        assertEq(b.parentRef, 0);
        assertEq(passport.ownerOf(id), miner);
        assertEq(passport.balanceOf(miner), 1);
        assertEq(passport.batchCount(), 1);
        assertEq(passport.containedTungsten(id), uint256(MASS) * GRADE);
        assertEq(passport.parentsOf(id).length, 0);
    }

    function test_Mint_ScrapByRecycler() public {
        vm.prank(recycler);
        uint256 id = passport.mint(recycling, uint8(IMineralPassport.Stage.SCRAP), MASS, 800_000, 0);
        assertEq(uint8(passport.batch(id).stage), uint8(IMineralPassport.Stage.SCRAP));
        assertEq(passport.batch(id).country, bytes2("DE"));
    }

    function test_RevertWhen_MintByNonMiner() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, refiner, Roles.MINER));
        vm.prank(refiner);
        passport.mint(refinery, uint8(IMineralPassport.Stage.ORE), MASS, GRADE, 0);
    }

    function test_RevertWhen_MintAtForeignFacility() public {
        uint32 other = _addFacility(admin, "VN", IConsortium.FacilityKind.MINE);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotOperator.selector, other, miner));
        vm.prank(miner);
        passport.mint(other, uint8(IMineralPassport.Stage.ORE), MASS, GRADE, 0);
    }

    function test_RevertWhen_MintProcessedStageAtMine() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IMineralPassport.BatchMintNotAllowed.selector, uint8(IMineralPassport.Stage.APT), IConsortium.FacilityKind.MINE
            )
        );
        vm.prank(miner);
        passport.mint(mine, uint8(IMineralPassport.Stage.APT), MASS, GRADE, 0);
    }

    function test_RevertWhen_MintOreAtRecycler() public {
        // A recycler is a PROCESSOR, so ORE needs the MINER role first.
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, recycler, Roles.MINER));
        vm.prank(recycler);
        passport.mint(recycling, uint8(IMineralPassport.Stage.ORE), MASS, GRADE, 0);
    }

    function test_RevertWhen_MintScrapAtRefinery() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IMineralPassport.BatchMintNotAllowed.selector,
                uint8(IMineralPassport.Stage.SCRAP),
                IConsortium.FacilityKind.REFINERY
            )
        );
        vm.prank(refiner);
        passport.mint(refinery, uint8(IMineralPassport.Stage.SCRAP), MASS, GRADE, 0);
    }

    function test_RevertWhen_MintInvalidStage() public {
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidStage.selector, 8));
        vm.prank(miner);
        passport.mint(mine, 8, MASS, GRADE, 0);
    }

    function test_RevertWhen_MintZeroMass() public {
        vm.expectRevert(IMineralPassport.BatchZeroMass.selector);
        vm.prank(miner);
        passport.mint(mine, 0, 0, GRADE, 0);
    }

    function test_RevertWhen_MintInvalidGrade() public {
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidGrade.selector, 0));
        vm.prank(miner);
        passport.mint(mine, 0, MASS, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidGrade.selector, 1_000_001));
        vm.prank(miner);
        passport.mint(mine, 0, MASS, 1_000_001, 0);
    }

    function test_RevertWhen_MintAtSanctionedFacility() public {
        _sanctionFacility(mine);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumFacilitySanctioned.selector, mine));
        vm.prank(miner);
        passport.mint(mine, 0, MASS, GRADE, 0);
    }

    // ------------------------------------------------------------ custody

    function test_OfferAccept_MovesTitleAndCustody() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectEmit(address(passport));
        emit IMineralPassport.CustodyOffered(id, miner, refiner, false);
        vm.prank(miner);
        passport.offer(id, refiner);
        IMineralPassport.Offer memory o = passport.offerOf(id);
        assertEq(o.to, refiner);
        assertFalse(o.custodyOnly);
        assertEq(o.offeredAt, block.timestamp);

        vm.expectEmit(address(passport));
        emit IERC721.Transfer(miner, refiner, id);
        vm.expectEmit(address(passport));
        emit IMineralPassport.CustodyAccepted(id, refiner, miner, false, MASS - 100);
        vm.prank(refiner);
        passport.accept(id, MASS - 100); // 0.01 %: within tolerance
        IMineralPassport.Batch memory b = passport.batch(id);
        assertEq(b.owner, refiner);
        assertEq(b.custodian, refiner);
        assertEq(b.flags, 0);
        assertEq(b.massGrams, MASS);
        assertEq(passport.balanceOf(miner), 0);
        assertEq(passport.balanceOf(refiner), 1);
        assertEq(passport.offerOf(id).to, address(0));
    }

    function test_OfferCustody_CarrierHoldsWhileTitleStays() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offerCustody(id, carrier);
        vm.prank(carrier);
        passport.accept(id, MASS);
        IMineralPassport.Batch memory b = passport.batch(id);
        assertEq(b.owner, miner);
        assertEq(b.custodian, carrier);
        assertEq(passport.balanceOf(carrier), 0);

        // The title holder sells to the refinery while the carrier delivers; the refinery
        // measures at receipt.
        vm.prank(miner);
        passport.offer(id, refiner);
        vm.prank(refiner);
        passport.accept(id, MASS);
        b = passport.batch(id);
        assertEq(b.owner, refiner);
        assertEq(b.custodian, refiner);
    }

    function test_OfferCustody_ByCustodianToNextCarrier() public {
        address carrier2 = makeAddr("carrier2");
        _addMember(carrier2, Roles.CARRIER);
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offerCustody(id, carrier);
        vm.prank(carrier);
        passport.accept(id, MASS);
        vm.expectEmit(address(passport));
        emit IMineralPassport.CustodyOffered(id, carrier, carrier2, true);
        vm.prank(carrier);
        passport.offerCustody(id, carrier2);
        vm.prank(carrier2);
        passport.accept(id, MASS);
        assertEq(passport.batch(id).custodian, carrier2);
    }

    function test_Accept_RecordsDiscrepancy() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offer(id, refiner);
        uint64 measured = MASS - 6_000; // 0.6 % short, tolerance 0.5 %
        vm.expectEmit(address(passport));
        emit IMineralPassport.CustodyDiscrepancyRecorded(id, refiner, MASS, measured);
        vm.prank(refiner);
        passport.accept(id, measured);
        assertEq(passport.batch(id).flags & passport.FLAG_DISCREPANCY(), passport.FLAG_DISCREPANCY());
        assertEq(passport.batch(id).owner, refiner);
    }

    function test_Accept_ToleranceBoundaryIsNotADiscrepancy() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offer(id, refiner);
        vm.prank(refiner);
        passport.accept(id, MASS + 5_000); // exactly 0.5 % over
        assertEq(passport.batch(id).flags & passport.FLAG_DISCREPANCY(), 0);
    }

    // ------------------------------------------------------------ history counter

    /// @dev The counter a storage proof reads: the top byte of the batch's Record slot
    ///      (`_records` is slot 0 of MineralPassport; tests/evidence checks the layout).
    function _history(uint256 id) internal view returns (uint256) {
        return uint256(vm.load(address(passport), keccak256(abi.encode(id, uint256(0))))) >> 248;
    }

    function test_History_CountsEveryListedEvent() public {
        uint256 id = _mint(MASS, GRADE);
        assertEq(_history(id), 1); // BatchMinted
        vm.prank(miner);
        passport.offerCustody(id, carrier);
        vm.prank(carrier);
        passport.cancelOffer(id);
        assertEq(_history(id), 3); // + CustodyOffered, CustodyOfferCancelled
        vm.prank(miner);
        passport.offer(id, refiner);
        vm.prank(refiner);
        passport.accept(id, MASS - 6_000); // + CustodyOffered, CustodyAccepted, CustodyDiscrepancyRecorded
        assertEq(_history(id), 6);
        vm.prank(refiner);
        passport.transferFrom(refiner, buyer, id); // + Transfer
        assertEq(_history(id), 7);
        vm.startPrank(regulator);
        passport.freeze(id, "audit");
        passport.unfreeze(id);
        passport.taint(id, "smuggled");
        vm.stopPrank();
        assertEq(_history(id), 10);
        // Flags and owner are untouched by the counter.
        IMineralPassport.Batch memory b = passport.batch(id);
        assertEq(b.owner, buyer);
        assertEq(b.flags, passport.FLAG_DISCREPANCY() | passport.FLAG_TAINTED());
    }

    function test_History_SplitCountsOnParentOnly() public {
        uint256 id = _mint(MASS, GRADE);
        uint64[] memory masses = new uint64[](2);
        masses[0] = MASS / 2;
        masses[1] = MASS / 2;
        vm.prank(miner);
        uint256 first = passport.split(id, masses);
        assertEq(_history(id), 2); // BatchMinted, BatchSplit
        assertEq(_history(first), 0);
        assertEq(_history(first + 1), 0);
    }

    function test_History_SaturatesAt255() public {
        uint256 id = _mint(MASS, GRADE);
        for (uint256 i = 0; i < 127; ++i) {
            vm.prank(miner);
            passport.offer(id, refiner);
            vm.prank(refiner);
            passport.cancelOffer(id);
        }
        assertEq(_history(id), 255);
        vm.prank(miner);
        passport.offer(id, refiner);
        assertEq(_history(id), 255);
        vm.prank(refiner);
        passport.accept(id, MASS - 6_000);
        assertEq(_history(id), 255);
        assertEq(passport.ownerOf(id), refiner);
        assertEq(passport.batch(id).flags, passport.FLAG_DISCREPANCY());
    }

    function test_CancelOffer() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offer(id, refiner);
        vm.expectEmit(address(passport));
        emit IMineralPassport.CustodyOfferCancelled(id, refiner, refiner);
        vm.prank(refiner); // the offeree may decline
        passport.cancelOffer(id);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNoOffer.selector, id));
        vm.prank(refiner);
        passport.accept(id, MASS);
    }

    function test_RevertWhen_CancelOfferByStranger() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offer(id, refiner);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotCustodian.selector, id, buyer));
        vm.prank(buyer);
        passport.cancelOffer(id);
    }

    function test_RevertWhen_CancelWithoutOffer() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNoOffer.selector, id));
        vm.prank(miner);
        passport.cancelOffer(id);
    }

    function test_RevertWhen_OfferByNonHolder() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotHolder.selector, id, refiner));
        vm.prank(refiner);
        passport.offer(id, buyer);
    }

    function test_RevertWhen_OfferCustodyByStranger() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotCustodian.selector, id, refiner));
        vm.prank(refiner);
        passport.offerCustody(id, carrier);
    }

    function test_RevertWhen_OfferToSelfOrZero() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidReceiver.selector, miner));
        vm.prank(miner);
        passport.offer(id, miner);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidReceiver.selector, address(0)));
        vm.prank(miner);
        passport.offer(id, address(0));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidReceiver.selector, miner));
        vm.prank(miner);
        passport.offerCustody(id, miner);
    }

    function test_RevertWhen_OfferWhilePending() public {
        uint256 id = _mint(MASS, GRADE);
        vm.startPrank(miner);
        passport.offer(id, refiner);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchOfferPending.selector, id, refiner));
        passport.offer(id, buyer);
        vm.stopPrank();
    }

    function test_RevertWhen_OfferUnknownBatch() public {
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 42));
        vm.prank(miner);
        passport.offer(42, refiner);
    }

    function test_RevertWhen_AcceptByOther() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offer(id, refiner);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotOfferee.selector, id, buyer, refiner));
        vm.prank(buyer);
        passport.accept(id, MASS);
    }

    function test_RevertWhen_AcceptByNonMember() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offer(id, outsider);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, outsider));
        vm.prank(outsider);
        passport.accept(id, MASS);
    }

    function test_RevertWhen_AcceptAfterReceiverSanctioned() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offer(id, refiner);
        _sanctionMember(refiner);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberSanctioned.selector, refiner));
        vm.prank(refiner);
        passport.accept(id, MASS);
    }

    function test_RevertWhen_AcceptFromSanctionedOrigin() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offer(id, refiner);
        _sanctionFacility(mine);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumFacilitySanctioned.selector, mine));
        vm.prank(refiner);
        passport.accept(id, MASS);
        assertTrue(passport.isTainted(id));
    }

    function test_RevertWhen_AcceptFrozen() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offer(id, refiner);
        vm.prank(regulator);
        passport.freeze(id, "inquiry");
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsFrozen.selector, id));
        vm.prank(refiner);
        passport.accept(id, MASS);
    }

    function test_TitleTransferWithdrawsPendingOffer() public {
        uint256 id = _mint(MASS, GRADE);
        vm.startPrank(miner);
        passport.offer(id, refiner);
        passport.transferFrom(miner, buyer, id);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNoOffer.selector, id));
        vm.prank(refiner);
        passport.accept(id, MASS);
        assertEq(passport.offerOf(id).to, address(0));
    }

    // ------------------------------------------------------------ ERC-721

    function test_Metadata() public {
        uint256 id = _mint(MASS, GRADE);
        assertEq(passport.name(), "Mineral Passport Batch");
        assertEq(passport.symbol(), "MPB");
        assertEq(passport.tokenURI(id), "https://passport.example/batch/1");
        MineralPassport bare = new MineralPassport(consortium, 0, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 1));
        bare.tokenURI(1);
    }

    function test_SupportsInterface() public view {
        assertTrue(passport.supportsInterface(type(IERC165).interfaceId));
        assertTrue(passport.supportsInterface(type(IERC721).interfaceId));
        assertTrue(passport.supportsInterface(type(IERC721Metadata).interfaceId));
        assertFalse(passport.supportsInterface(0xffffffff));
    }

    function test_TransferFrom_MovesTitleOnly() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.transferFrom(miner, buyer, id);
        assertEq(passport.ownerOf(id), buyer);
        assertEq(passport.batch(id).custodian, miner);
        assertEq(passport.balanceOf(buyer), 1);
        assertEq(passport.balanceOf(miner), 0);
    }

    function test_ApproveAndTransferByApproved() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectEmit(address(passport));
        emit IERC721.Approval(miner, carrier, id);
        vm.prank(miner);
        passport.approve(carrier, id);
        assertEq(passport.getApproved(id), carrier);
        vm.prank(carrier);
        passport.transferFrom(miner, buyer, id);
        assertEq(passport.ownerOf(id), buyer);
        assertEq(passport.getApproved(id), address(0)); // cleared by the move
    }

    function test_OperatorApproval() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectEmit(address(passport));
        emit IERC721.ApprovalForAll(miner, carrier, true);
        vm.prank(miner);
        passport.setApprovalForAll(carrier, true);
        assertTrue(passport.isApprovedForAll(miner, carrier));
        vm.prank(carrier);
        passport.approve(buyer, id); // an operator may approve
        vm.prank(buyer);
        passport.transferFrom(miner, buyer, id);
        assertEq(passport.ownerOf(id), buyer);
    }

    function test_SafeTransferFrom_ToContractMember() public {
        Receiver good = new Receiver(true);
        _addMember(address(good), Roles.BUYER);
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.safeTransferFrom(miner, address(good), id);
        assertEq(passport.ownerOf(id), address(good));
    }

    function test_RevertWhen_SafeTransferToRejectingContract() public {
        Receiver bad = new Receiver(false);
        _addMember(address(bad), Roles.BUYER);
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(bad)));
        vm.prank(miner);
        passport.safeTransferFrom(miner, address(bad), id, "");
    }

    function test_RevertWhen_TransferToNonMember() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotMember.selector, outsider));
        vm.prank(miner);
        passport.transferFrom(miner, outsider, id);
    }

    function test_RevertWhen_TransferFromSanctionedHolder() public {
        uint256 id = _mintTo(buyer, MASS, GRADE);
        _sanctionMember(buyer);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberSanctioned.selector, buyer));
        vm.prank(buyer);
        passport.transferFrom(buyer, refiner, id);
    }

    function test_RevertWhen_TransferOfBatchFromSanctionedOperator() public {
        uint256 id = _mintTo(buyer, MASS, GRADE);
        _sanctionMember(miner); // the mine's operator, not the holder
        assertTrue(passport.isTainted(id));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumFacilitySanctioned.selector, mine));
        vm.prank(buyer);
        passport.transferFrom(buyer, refiner, id);
    }

    function test_RevertWhen_TransferToZero() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0)));
        vm.prank(miner);
        passport.transferFrom(miner, address(0), id);
    }

    function test_RevertWhen_TransferWrongFrom() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721IncorrectOwner.selector, buyer, id, miner));
        vm.prank(buyer);
        passport.transferFrom(buyer, refiner, id);
    }

    function test_RevertWhen_TransferUnauthorized() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, buyer, id));
        vm.prank(buyer);
        passport.transferFrom(miner, buyer, id);
    }

    function test_RevertWhen_TransferUnknownToken() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 9));
        vm.prank(miner);
        passport.transferFrom(miner, buyer, 9);
    }

    function test_RevertWhen_ApproveByStranger() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidApprover.selector, buyer));
        vm.prank(buyer);
        passport.approve(buyer, id);
    }

    function test_RevertWhen_ApproveUnknownToken() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 9));
        vm.prank(miner);
        passport.approve(buyer, 9);
    }

    function test_RevertWhen_ApprovalForAllZero() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidOperator.selector, address(0)));
        vm.prank(miner);
        passport.setApprovalForAll(address(0), true);
    }

    function test_RevertWhen_BalanceOfZero() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidOwner.selector, address(0)));
        passport.balanceOf(address(0));
    }

    function test_RevertWhen_ViewsOfUnknownBatch() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 5));
        passport.ownerOf(5);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 5));
        passport.getApproved(5);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 5));
        passport.batch(5);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 5));
        passport.parentsOf(5);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 5));
        passport.isTainted(5);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 5));
        passport.containedTungsten(5);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 5));
        passport.offerOf(5);
    }

    // ------------------------------------------------------------ regulator

    function test_FreezeBlocksMovesUntilUnfrozen() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectEmit(address(passport));
        emit IMineralPassport.BatchFrozen(id, regulator, "inquiry");
        vm.prank(regulator);
        passport.freeze(id, "inquiry");
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsFrozen.selector, id));
        vm.prank(miner);
        passport.transferFrom(miner, buyer, id);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsFrozen.selector, id));
        vm.prank(miner);
        passport.offer(id, buyer);

        vm.expectEmit(address(passport));
        emit IMineralPassport.BatchUnfrozen(id, regulator);
        vm.prank(regulator);
        passport.unfreeze(id);
        vm.prank(miner);
        passport.transferFrom(miner, buyer, id);
    }

    function test_TaintBlocksMoves() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectEmit(address(passport));
        emit IMineralPassport.BatchTainted(id, regulator, "conflict");
        vm.prank(regulator);
        passport.taint(id, "conflict");
        assertTrue(passport.isTainted(id));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsTainted.selector, id));
        vm.prank(miner);
        passport.transferFrom(miner, buyer, id);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsTainted.selector, id));
        vm.prank(regulator);
        passport.taint(id, "again");
    }

    function test_AddDocuments() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectEmit(address(passport));
        emit IMineralPassport.BatchDocumentsAdded(id, miner, bytes32("docs-1"));
        vm.prank(miner);
        passport.addDocuments(id, bytes32("docs-1"));
        // Nothing is stored: the record, and its history counter, are unchanged.
        assertEq(_history(id), 1);
    }

    function test_RevertWhen_AddDocumentsNotHolderOrEmpty() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotHolder.selector, id, refiner));
        vm.prank(refiner);
        passport.addDocuments(id, bytes32("docs"));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchEmptyDocumentRoot.selector, id));
        vm.prank(miner);
        passport.addDocuments(id, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 999));
        vm.prank(miner);
        passport.addDocuments(999, bytes32("docs"));
        _sanctionMember(miner);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberSanctioned.selector, miner));
        vm.prank(miner);
        passport.addDocuments(id, bytes32("docs"));
    }

    function test_RevertWhen_FreezeByNonRegulator() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.REGULATOR));
        vm.prank(miner);
        passport.freeze(id, "");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.REGULATOR));
        vm.prank(miner);
        passport.unfreeze(id);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.REGULATOR));
        vm.prank(miner);
        passport.taint(id, "");
    }

    function test_RevertWhen_FreezeTwiceOrUnfreezeUnfrozen() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFrozen.selector, id));
        vm.prank(regulator);
        passport.unfreeze(id);
        vm.prank(regulator);
        passport.freeze(id, "");
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsFrozen.selector, id));
        vm.prank(regulator);
        passport.freeze(id, "");
    }

    function test_RevertWhen_RegulatorActsOnUnknownBatch() public {
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 3));
        vm.prank(regulator);
        passport.freeze(3, "");
    }

    function test_StageRank() public {
        assertEq(passport.stageRank(uint8(IMineralPassport.Stage.ORE)), 0);
        assertEq(passport.stageRank(uint8(IMineralPassport.Stage.POWDER)), 4);
        assertEq(
            passport.stageRank(uint8(IMineralPassport.Stage.CARBIDE)), passport.stageRank(uint8(IMineralPassport.Stage.WF6))
        );
        assertEq(passport.stageRank(uint8(IMineralPassport.Stage.SCRAP)), type(uint8).max);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidStage.selector, 8));
        passport.stageRank(8);
    }
}
